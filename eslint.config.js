// Lint that guards the house: the engine stays free of React and the terminal, and
// the usual TypeScript mistakes fail CI. Formatting is Prettier's job (eslint-config-prettier
// turns off the stylistic rules that would fight it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

const noViewInEngine = {
  patterns: [
    {
      group: ['react', 'react/*', 'react-dom', 'ink', 'ink-*', '@inkjs/*'],
      message: 'The engine and adapters know nothing of React or the terminal (ARCHITECTURE.md: one engine, two views).',
    },
    { group: ['**/ui/*', '**/ui', '**/ui/**'], message: 'The engine and adapters never import the UI; the UI reads the engine.' },
  ],
};

// The front door (ARCHITECTURE.md, "The rooms"): a view, the TUI's host and the log
// reach the engine only through engine/api.ts, so the engine's rooms can move freely.
const frontDoor = {
  patterns: [
    {
      regex: '(^|/)engine/(?!api\\.js$)',
      message: 'Views and the TUI host import the engine only through engine/api.ts (the front door).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', '.bench/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Empty catch blocks are how best-effort cleanup is written here; each says why in a comment.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/**/*.tsx', 'src/ui/**/*.ts', 'test/ui/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
  {
    files: ['src/engine/**/*.ts', 'src/adapters/**/*.ts', 'src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', noViewInEngine],
      // The engine reports through events and the log sink; only the views write to the terminal.
      'no-console': 'error',
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/host/tui/**/*.ts', 'src/log/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', frontDoor] },
  },
  {
    // Terminal input and output are escape sequences: matching control characters is the point.
    files: ['src/ui/**/*.{ts,tsx}', 'test/ui/**/*.{ts,tsx}'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // The fakes parse and build arbitrary wire JSON, and the bench is not shipped.
    files: ['test/**/*.{ts,tsx}', 'bench/**/*.ts', 'src/demo/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
