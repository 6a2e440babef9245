// Lint is type-aware only where it pays: correctness rules, not formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'cdk.out/', 'cdk.out.*/', 'dist/', 'build/', 'charts/imports/', 'services/proto/gen/', 'scratch/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      // Constructs are created for their side effects on the tree.
      'no-new': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name='fromLookup']",
        message: 'Synthesis runs offline: no fromLookup (DESIGN.md §3). Put the value in lib/spec.',
      }],
    },
  },
  {
    // An ARN written out pins a partition (and often an account): build it with Stack.formatArn,
    // which takes both from the stack.
    files: ['lib/**/*.ts', 'charts/**/*.ts', 'bin/**/*.ts'],
    ignores: ['charts/schemas/**'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name='fromLookup']",
        message: 'Synthesis runs offline: no fromLookup (DESIGN.md §3). Put the value in lib/spec.',
      }, {
        selector: 'Literal[value=/^arn:aws:/], TemplateElement[value.raw=/^arn:aws:/]',
        message: 'No literal arn:aws: (other partitions exist): use Stack.of(scope).formatArn() or Aws.PARTITION.',
      }],
    },
  },
  {
    // Synthesized templates are untyped JSON; tests walk them freely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
