// Lint rules for every TypeScript and JavaScript file; `npm test` runs them (test/unit/format.test.ts).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // what .gitignore ignores (builds, bundles, results), and declaration files
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'native/build*/**', 'bench-results/**', '.whl/**', '.device/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept for its position.
      // a `let` read by a callback before its one assignment cannot be a `const`
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // CommonJS build scripts and the CLI launcher run without a build step.
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The addon and the tokenizer packages load through require (a path known at run time; CommonJS builds).
  { files: ['native/lib/addon.ts', 'native/lib/tokenizer.ts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Webview scripts, and the functions the end-to-end tests evaluate in the page, run in the browser.
  { files: ['media/**/*.js', 'test/e2e/**'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
);
