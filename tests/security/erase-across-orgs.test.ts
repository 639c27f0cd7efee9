/**
 * `$erase` across organisations (issue #4 and the guessed-UIC finding): every organisation that
 * held a record or had an enrolment sees the erasure in its own audit trail, and an organisation
 * whose tie to the client is younger than ERASE_COOLDOWN_MS cannot erase what others hold.
 * Only Date is faked, so that records can be written "a day ago".
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { FHIR_JSON, type TestApp, startTestApp } from '../helpers/app';
import { CLIENT_CODE_SYSTEM } from '../../src/privacy/client-code';
import { ERASE_COOLDOWN_MS } from '../../src/privacy/erasure';

const A = 'org-a';
const B = 'org-b';
const C = 'org-c';
const UIC = 'GUESSABLE MOTHER FATHER 02/03/1994';
const T0 = Date.parse('2030-01-10T08:00:00.000Z');

const register = {
  resourceType: 'Parameters',
  parameter: [{ name: 'uic', valueString: UIC }, { name: 'birthYear', valueInteger: 1994 }, { name: 'gender', valueCode: 'female' }],
};
const eraseBody = '{"resourceType":"Parameters"}';

let t: TestApp;

function setClock(ms: number): void {
  jest.setSystemTime(new Date(ms));
}

/** Registers the UIC at `org` (clinician and admin) and returns the client's id and code. */
async function registerAt(org: string): Promise<{ id: string; code: string; status: number }> {
  const res = await t.as(['clinician', 'admin'], org).post('/fhir/Patient/$register').set('Content-Type', FHIR_JSON).send(JSON.stringify(register));
  if (res.status !== 200 && res.status !== 201) throw new Error(`register failed ${res.status}: ${JSON.stringify(res.body)}`);
  const code = (res.body.identifier as { system: string; value: string }[]).find((i) => i.system === CLIENT_CODE_SYSTEM)!.value;
  return { id: res.body.id, code, status: res.status };
}

/** An Observation about the client written by `org`; returns its id. */
async function observe(org: string, patient: string, text: string): Promise<string> {
  const res = await t.as(['clinician'], org).post('/fhir/Observation').set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: `Patient/${patient}` } }));
  if (res.status !== 201) throw new Error(`create failed ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

const eraseAs = (org: string, id: string) => t.as(['admin'], org).post(`/fhir/Patient/${id}/$erase`).set('Content-Type', FHIR_JSON).send(eraseBody);

/** The `$erase` events about the client code that `org`'s auditor can find. */
async function eraseEventsSeenBy(org: string, code: string): Promise<AuditEvent[]> {
  const res = await t.as(['auditor'], org).get(`/fhir/AuditEvent?patient:identifier=${encodeURIComponent(`${CLIENT_CODE_SYSTEM}|${code}`)}&_count=1000`);
  expect(res.status).toBe(200);
  return ((res.body.entry ?? []) as { resource: AuditEvent }[]).map((e) => e.resource).filter((e) => e.subtype?.[0]?.code === 'erase');
}

const actingOrg = (e: AuditEvent) => e.agent?.find((a) => a.who?.reference?.startsWith('Organization/'))?.who?.reference;

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
  setClock(T0);
  t = startTestApp();
});

afterEach(async () => {
  await t.close();
  jest.useRealTimers();
});

describe('an organisation that only just met the client', () => {
  test('enrolled by $register with a guessed UIC, it cannot erase: 403, nothing removed, the refusal on record for both organisations', async () => {
    const a = await registerAt(A);
    const obs = await observe(A, a.id, 'HIV test');
    setClock(T0 + 30 * 24 * 3_600_000);
    const b = await registerAt(B);
    expect(b).toMatchObject({ id: a.id, status: 200 });
    const res = await eraseAs(B, a.id);
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('forbidden');
    expect(res.body.issue[0].diagnostics).toMatch(/other organisations.*24 hours/);
    expect(JSON.stringify(res.body)).not.toContain(A);
    // Nothing was erased.
    expect((await t.as(['clinician'], A).get(`/fhir/Observation/${obs}`)).status).toBe(200);
    expect((await t.as(['clinician'], A).get(`/fhir/Patient/${a.id}`)).status).toBe(200);
    // A's auditor sees who tried; B's auditor sees its own refusal. Both name only the client code.
    const seenByA = await eraseEventsSeenBy(A, a.code);
    expect(seenByA).toHaveLength(1);
    expect(seenByA[0]).toMatchObject({ action: 'E', outcome: '4' });
    expect(actingOrg(seenByA[0]!)).toBe(`Organization/${B}`);
    const seenByB = await eraseEventsSeenBy(B, a.code);
    expect(seenByB).toHaveLength(1);
    expect(seenByB[0]!.outcome).toBe('4');
    expect(JSON.stringify([...seenByA, ...seenByB])).not.toContain(`Patient/${a.id}`);
  });

  test('writing a record of its own a moment before does not make it an organisation that may erase', async () => {
    const a = await registerAt(A);
    const obs = await observe(A, a.id, 'HIV test');
    setClock(T0 + 2 * ERASE_COOLDOWN_MS);
    await registerAt(B);
    await observe(B, a.id, 'fabricated');
    setClock(T0 + 2 * ERASE_COOLDOWN_MS + 60_000);
    expect((await eraseAs(B, a.id)).status).toBe(403);
    expect((await t.as(['clinician'], A).get(`/fhir/Observation/${obs}`)).status).toBe(200);
  });

  test('an old record of another client moved to this one counts from the move, not from its first version', async () => {
    const a = await registerAt(A);
    const other = await t.as(['clinician'], B).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', gender: 'male' }));
    const old = await t.as(['clinician'], B).post('/fhir/Observation').set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'old' }, subject: { reference: `Patient/${other.body.id}` } }));
    expect(old.status).toBe(201);
    setClock(T0 + 2 * ERASE_COOLDOWN_MS);
    await registerAt(B);
    const moved = await t.as(['clinician'], B).put(`/fhir/Observation/${old.body.id}`).set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...old.body, subject: { reference: `Patient/${a.id}` } }));
    expect(moved.status).toBe(200);
    // Its first version is two days old, but it has been about this client for a moment only.
    expect((await eraseAs(B, a.id)).status).toBe(403);
    expect((await t.as(['clinician'], A).get(`/fhir/Patient/${a.id}`)).status).toBe(200);
  });
});

describe('the legitimate path (issue #4)', () => {
  test('an organisation holding the client\'s records for longer than the cooldown erases everything, and every organisation concerned sees it', async () => {
    const a = await registerAt(A);
    const obsA = await observe(A, a.id, 'HIV test');
    setClock(T0 + 60_000);
    await registerAt(B);
    const obsB = await observe(B, a.id, 'STI screen');
    await registerAt(C); // C only enrolled the client, and holds nothing.
    setClock(T0 + ERASE_COOLDOWN_MS + 120_000);
    const res = await eraseAs(B, a.id);
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'erased', valueInteger: 3 }, { name: 'clientCode', valueString: a.code }]);
    expect((await t.as(['clinician'], A).get(`/fhir/Observation/${obsA}`)).status).toBe(404);
    expect((await t.as(['clinician'], B).get(`/fhir/Observation/${obsB}`)).status).toBe(404);
    expect((await t.as(['clinician'], A).get(`/fhir/Patient/${a.id}`)).status).toBe(404);
    // One event per organisation concerned, each held by (so visible to) that organisation only.
    const seen = { A: await eraseEventsSeenBy(A, a.code), B: await eraseEventsSeenBy(B, a.code), C: await eraseEventsSeenBy(C, a.code) };
    for (const events of Object.values(seen)) {
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ action: 'D', outcome: '0' });
      expect(actingOrg(events[0]!)).toBe(`Organization/${B}`);
      expect(events[0]!.agent?.[0]?.altId).toBe(`user-admin-${B}`);
    }
    expect(seen.A[0]!.outcomeDesc).toBe(`3 resource(s) erased by Organization/${B}, 2 of them held by this organisation`);
    expect(seen.B[0]!.outcomeDesc).toBe('3 resource(s) erased, 1 of them held by this organisation');
    expect(seen.C[0]!.outcomeDesc).toBe(`3 resource(s) erased by Organization/${B}, 0 of them held by this organisation`);
    expect(new Set([...seen.A, ...seen.B, ...seen.C].map((e) => e.id)).size).toBe(3);
    expect(JSON.stringify(seen)).not.toContain(`Patient/${a.id}`);
    // An organisation that was never concerned sees nothing.
    expect(await eraseEventsSeenBy('org-d', a.code)).toEqual([]);
  });

  test('the organisation that registered the client, long ago, erases at once even though another enrolled a moment before', async () => {
    const a = await registerAt(A);
    await observe(A, a.id, 'HIV test');
    setClock(T0 + 2 * ERASE_COOLDOWN_MS);
    await registerAt(B);
    expect((await eraseAs(A, a.id)).status).toBe(200);
    expect(await eraseEventsSeenBy(B, a.code)).toHaveLength(1);
  });

  test('a client known to one organisation only is erased at once, with no cooldown', async () => {
    const b = await registerAt(B);
    await observe(B, b.id, 'HIV test');
    const res = await eraseAs(B, b.id);
    expect(res.status).toBe(200);
    expect(res.body.parameter[0]).toEqual({ name: 'erased', valueInteger: 2 });
  });
});
