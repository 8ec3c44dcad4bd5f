// The headless engine: loads the built-in and user plugins, prints what it found and keeps
// watching the user plugin folder. It is what `npm start` runs until the player shells land.
import { appPaths } from './app-paths.js';
import { PluginRegistry } from './plugins/registry.js';

const paths = appPaths();
const registry = new PluginRegistry({
  folders: [
    { dir: paths.builtinPlugins, origin: 'builtin', watch: false },
    { dir: paths.userPlugins, origin: 'user', watch: true },
  ],
  dataRoot: paths.pluginData,
  shadowDir: paths.shadow,
  log: (source, level, message) => console.log(`[plugin ${source}] ${level}: ${message}`),
});

function describe(): void {
  for (const p of registry.list()) {
    const caps = p.capabilities.map((c) => `${c.kind}:${c.typeId}`).join(', ');
    const what = p.status === 'failed' ? `failed (${p.error?.code}: ${p.error?.message})` : p.status;
    console.log(`  ${p.pluginId ?? '?'} ${p.metadata?.version ?? ''} [${p.origin}] ${what}${caps ? ` — ${caps}` : ''}`);
  }
}

registry.on('changed', (s) => console.log(`plugin ${s.pluginId ?? s.path}: ${s.status}${s.error ? ` (${s.error.message})` : ''}`));
await registry.start();
console.log(`StellaTune engine — plugins (user folder: ${paths.userPlugins}):`);
describe();
console.log('Watching for plugin changes; Ctrl+C to quit.');
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGINT', () => {
  clearInterval(keepAlive);
  void registry.close().then(() => process.exit(0));
});
