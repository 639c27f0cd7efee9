import { narrow, narrowAll } from '../../src/search/narrow';
import type { Predicate } from '../../src/search/plan';
import { visibility } from '../../src/policy/access';

const custody: Predicate = { kind: 'custodian', custodians: ['org-a'] };

test('type tests decide statically once the types are known', () => {
  expect(narrow({ kind: 'type', types: ['Observation', 'Condition'] }, ['Observation'])).toBe(true);
  expect(narrow({ kind: 'type', types: ['Condition'] }, ['Observation'])).toBe(false);
  expect(narrow({ kind: 'enrolled', orgs: ['org-a'] }, ['Observation'])).toBe(false);
  expect(narrow({ kind: 'and', all: [{ kind: 'type', types: ['Observation'] }, custody] }, ['Observation'])).toEqual(custody);
  expect(narrowAll([{ kind: 'or', any: [] }], ['Observation'])).toBe(false);
});

test("a clinician's visibility narrowed to one type is a single test", () => {
  const vis = visibility({ sub: 's', org: 'org-a', roles: ['clinician'] });
  expect(narrowAll(vis, ['Observation'])).toEqual([custody]);
  // A client's Patient: enrolled here (a referral opens only its ServiceRequest; the client, consent does).
  expect(narrowAll(vis, ['Patient'])).toEqual([{ kind: 'enrolled', orgs: ['org-a'] }]);
  expect(narrowAll(vis, ['ServiceRequest'])).toEqual([
    { kind: 'or', any: [{ kind: 'custodian', custodians: ['org-a'] }, expect.objectContaining({ kind: 'has', sourceType: 'Task' })] },
  ]);
  expect(narrowAll(vis, ['Organization'])).toEqual([]);
  expect(narrowAll(visibility({ sub: 's', org: 'org-a', roles: ['outreach'] }), ['Observation'])).toBe(false);
});
