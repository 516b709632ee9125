// ESLint (flat config) for the whole tree. Type-aware rules catch what tsc does not (floating
// promises, non-exhaustive switches); import-x finds import cycles; the layering rules are the
// ones docs/architecture.md states and test/architecture.test.ts also holds.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const IO = ['fs', 'fs/promises', 'net', 'child_process', 'dgram', 'http', 'https', 'tls', 'dns'].flatMap((m) => [m, `node:${m}`]);

/** Modules shared by the host and the sidecars: pure, no I/O (docs/architecture.md). */
const PURE = [
  'src/dlp/**/*.ts',
  'src/egress/{routes-file,routes-file-types,route-table,match,decide,inject,ssrf,ip,host,doh,deny,local,check,normalize,dns-exfil}.ts',
  'src/plan/{resolve-token-values,route-merge,slots,routes-doc,token-exposure,agent-env,reserved-names,plan-document,image}.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.bench-tmp/**', 'test/**/fixtures/**/*.mjs', 'vitest.config.ts', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import './x.js' for './x.ts' (NodeNext); the resolver maps the extension back.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/providers/**', '**/manifest/**'], message: 'backends never read providers or manifests (docs/architecture.md)' }],
      }],
    },
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO.map((name) => ({ name, message: 'shared pure module: no I/O (docs/architecture.md)' })),
      }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/backends/platform.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'platform', message: 'platform checks live in src/backends/platform.ts' }],
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
