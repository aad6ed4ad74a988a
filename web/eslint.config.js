import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-results', 'playwright-report', 'src/api/schema.d.ts'] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    files: ['**/*.{ts,tsx}'],
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.browser, ...globals.node } },
    rules: {
      // fetch and XMLHttpRequest belong to src/api only.
      'no-restricted-globals': ['error', 'fetch', 'XMLHttpRequest', 'sessionStorage'],
    },
  },
  {
    files: ['src/api/**', 'e2e/**', '*.config.ts'],
    rules: { 'no-restricted-globals': 'off' },
  },
);
