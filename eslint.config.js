// Lint: typescript-eslint recommended everywhere, plus the house rule that
// src/core stays pure (no sockets, files, processes or database).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'fs', 'fs/promises', 'net', 'dgram', 'child_process', 'http', 'https', 'tls', 'dns', 'cluster', 'worker_threads', 'readline',
].flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '.lab/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', structuredClone: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...ioModules.map((name) => ({ name, message: 'src/core is pure: do I/O in src/adapters and pass the result in.' })),
          { name: 'better-sqlite3', message: 'src/core is pure: the store lives in src/adapters/store.' },
        ],
        patterns: [{ group: ['**/adapters/**', '**/cli/**', '**/lab/**'], message: 'src/core must not depend on the I/O layers.' }],
      }],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'src/core is pure.' }, { name: 'process', message: 'src/core is pure: take options as arguments.' }],
    },
  },
);
