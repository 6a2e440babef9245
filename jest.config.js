/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[cm]?[jt]sx?$': ['@swc/jest'] },
  // jose, node-pg-migrate and @platformatic/kafka ship ESM only; swc turns them into CommonJS
  // for jest's module registry (Node itself loads them natively).
  transformIgnorePatterns: ['/node_modules/(?!(jose|node-pg-migrate|@platformatic)/)'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // Synthesis of a whole environment takes seconds; tests synthesize once per file.
  testTimeout: 300000,
  testSequencer: '<rootDir>/test/sequencer.js',
  maxWorkers: 2,
};
