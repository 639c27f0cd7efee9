/**
 * The reliability suite (issue #9): crash safety, concurrency, hostile input, load and graceful
 * shutdown against real server processes. Run with `npm run test:reliability`; docs/reliability.md.
 * One worker: the tests measure the server, so they must not compete with each other for the CPU.
 */
/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/reliability/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  maxWorkers: 1,
  // Generous: child servers start slowly on a busy machine and the load test runs for a minute.
  testTimeout: 600000,
};
