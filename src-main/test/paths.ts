// Paths of the native build outputs the tests use.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const nativeBuild = path.join(repoRoot, 'native-plugins', 'build');
export const builtinPluginDir = path.join(nativeBuild, 'plugins');
export const fixturePluginDir = path.join(nativeBuild, 'fixtures');
export const badFixtureDir = path.join(fixturePluginDir, 'bad');
export const toolDir = path.join(nativeBuild, 'tools');
export const fixturePlugin = path.join(fixturePluginDir, 'st-fixture.so');
// The plugin template (native-plugins/template), built outside the plugin folders.
export const templatePlugin = path.join(nativeBuild, 'template', 'folder-source.so');
