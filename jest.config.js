/**
 * Jest runs the TypeScript ESM sources directly through @swc/jest; `tsc --noEmit` type-checks in `npm test`.
 * The global setup builds dist/ when it is stale, for the tests that start bin/sportello.js.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  globalSetup: '<rootDir>/tests/global-setup.js',
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // A hang detector, not a speed check: CPU-bound tests (training, property runs) must pass on a loaded machine.
  testTimeout: 120000,
  maxWorkers: 2,
};
