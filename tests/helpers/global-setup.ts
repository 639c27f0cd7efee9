/**
 * Runs once per `jest` run: says, in one line, when the MongoDB suites will be skipped and why
 * (the suites themselves then skip silently), so the skip is visible and never mistaken for a pass.
 */
import { mongoUnavailable } from './mongo-probe';

export default function globalSetup(): void {
  const reason = mongoUnavailable();
  if (reason) process.stdout.write(`\nMongoDB suites skipped (they run wherever a replica set is reachable): ${reason}\n`);
}
