/** Two organisations' clinicians on one app, for tests of what one may see of the other's data. */
import { type TestApp, startTestApp } from './app';

type Agent = ReturnType<TestApp['as']>;

/**
 * Starts an app before the file's tests and closes it after them; returns agents acting as a
 * clinician of `a` and of `b` (functions, since the app exists only once the tests run).
 */
export function twoClinics(a: string, b: string): { clinA: () => Agent; clinB: () => Agent } {
  let t: TestApp;
  beforeAll(() => {
    t = startTestApp();
  });
  afterAll(() => t.close());
  return { clinA: () => t.as(['clinician'], a), clinB: () => t.as(['clinician'], b) };
}
