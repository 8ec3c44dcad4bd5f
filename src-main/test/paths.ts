// Paths of the native build outputs the tests use.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// STELLATUNE_NATIVE_BUILD points the tests at another build tree (the Windows cross-build).
export const nativeBuild = process.env.STELLATUNE_NATIVE_BUILD ?? path.join(repoRoot, 'native-plugins', 'build');
/** The plugin library suffix of this platform. */
export const libExt = process.platform === 'win32' ? '.dll' : process.platform === 'darwin' ? '.dylib' : '.so';
export const builtinPluginDir = path.join(nativeBuild, 'plugins');
export const fixturePluginDir = path.join(nativeBuild, 'fixtures');
export const badFixtureDir = path.join(fixturePluginDir, 'bad');
export const toolDir = path.join(nativeBuild, 'tools');
export const fixturePlugin = path.join(fixturePluginDir, `st-fixture${libExt}`);
// The plugin template (native-plugins/template), built outside the plugin folders.
export const templatePlugin = path.join(nativeBuild, 'template', `folder-source${libExt}`);
