/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/reliability/'],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  testTimeout: 30000,
  globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
};
