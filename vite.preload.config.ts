// Bundles the Electron preload into one CommonJS file: a sandboxed preload can require only
// 'electron', so the contract code it derives its API from is bundled in.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist/preload',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    minify: false,
    lib: { entry: 'src-preload/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
