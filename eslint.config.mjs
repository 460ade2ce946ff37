// ESLint (flat config) with typescript-eslint's type-aware rules. `npm run lint`; `npm test` and
// .ci/run run it before the test tiers and fail on any finding.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const coreRule = 'Only src/extension.ts and src/vscode/ import vscode: the core takes plain values (CONTRIBUTING.md).';

export default tseslint.config(
  { ignores: ['dist/', '.cache/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  // A `let` that closures read before it is set (a server's handler, set up before the server it uses).
  { rules: { 'prefer-const': ['error', { ignoreReadBeforeAssign: true }] } },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its failure to the extension host's own log (or crashes a
      // test process): every one is awaited, returned, or given a rejection handler; `void` alone
      // does not count. VS Code's Thenables too: a message whose answer nobody needs goes to
      // inBackground() (src/vscode/inBackground.ts).
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          ignoreVoid: false,
          checkThenables: true,
          // node:test's describe/it return promises that the runner itself awaits.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Type-only imports vanish from the bundle, so a type never drags a module in.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Off: an async function without await is how an implementation of an async interface turns
      // a throw into a rejection, which is what its callers handle.
      '@typescript-eslint/require-await': 'off',
      // `const { secret: _unused, ...rest } = value` is how a field is left out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // The one rule of the house: the core takes plain values and returns plain values. Only
    // src/extension.ts and src/vscode/ (the shell) speak to VS Code.
    files: ['src/oauth/**', 'src/auth/**', 'src/diagnostics/**', 'src/terminal/**', 'src/config.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: coreRule }] }],
      // no-restricted-imports sees only static imports: `await import('vscode')` and
      // `typeof import('vscode')` would slip past it.
      'no-restricted-syntax': [
        'error',
        { selector: "ImportExpression[source.value='vscode']", message: coreRule },
        { selector: "TSImportType[argument.literal.value='vscode']", message: coreRule },
        { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: coreRule },
      ],
    },
  },
  {
    // Plain JavaScript: the end-to-end tier, the scripts, the build, the test consumer extension.
    // Type information (tsconfig.eslint-js.json) only for the rule that needs it: a floating
    // promise in a test driver hides the failure that should have failed the test.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node }, parser: tseslint.parser, parserOptions: { project: './tsconfig.eslint-js.json', tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false, checkThenables: true, allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }] },
  },
  {
    // page.evaluate() callbacks run in Chromium, where these exist.
    files: ['test/e2e/**/*.mjs'],
    languageOptions: { globals: { document: 'readonly', Image: 'readonly' } },
  },
  {
    files: ['test/e2e/consumer/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
