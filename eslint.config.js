import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native-plugins/build/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'stubs/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable' } },
  },
  {
    // Fences between the layers: koffi and raw pointers only in the plugin runtime, Electron
    // only in the Electron shell (the core also runs as plain Node). Tests may probe the ABI.
    files: ['src-main/**/*.ts', 'src-shared/**/*.ts'],
    ignores: ['src-main/plugins/**', 'src-main/electron/**', 'src-main/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'koffi', message: 'Only the plugin runtime (src-main/plugins/) uses koffi.' },
            { name: 'electron', message: 'Only the Electron shell (src-main/electron/) imports electron.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/plugins/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only the Electron shell (src-main/electron/) imports electron.' }] }],
    },
  },
  {
    files: ['src-main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'koffi', message: 'Only the plugin runtime (src-main/plugins/) uses koffi.' }] }],
    },
  },
  {
    // The renderer runs sandboxed: it talks to the core only through the contract client.
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/src-main/**', '**/src-preload/**'], message: 'The renderer reaches the core through the IPC contract only.' },
            { group: ['node:*', 'electron', 'koffi', 'ws', 'naudiodon'], message: 'No Node, Electron or native modules in the renderer.' },
          ],
        },
      ],
    },
  },
);
