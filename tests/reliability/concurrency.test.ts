/**
 * Concurrency (issue #9) against one server process: conflicting If-Match updates have exactly one
 * winner per version and lose no update, identical conditional creates make one resource, and
 * concurrent referral transitions never break the Task state machine.
 */
import type { Task } from '@medplum/fhirtypes';
import { type FhirClient, client, pool } from './helpers/http';
import { type ChildServer, killAll, makeDataDir, removeDataDir, startServer, stopServer } from './helpers/server';
import { CLINIC, COMMUNITY, needs, referralSetup, sendReferral } from './helpers/referrals';
import { prng, runSeed } from './helpers/random';
import { CLOSED_STATUSES, type Party, type TaskStatus, allowedTransitions, mayTransition } from '../../src/referrals/state-machine';

const data = makeDataDir('concurrency');
let server: ChildServer;
let c: FhirClient;
beforeAll(async () => {
  server = await startServer(data.file);
  c = client(server.fhir);
});
afterAll(async () => {
  if (server) await stopServer(server);
  killAll();
  removeDataDir(data.dir);
});

async function organization(name: string): Promise<{ id: string; versionId: string }> {
  const res = await c.post('Organization', { resourceType: 'Organization', name });
  expect(res.status).toBe(201);
  return { id: res.body.id, versionId: res.body.meta.versionId };
}

/** Every version of a resource, oldest first. */
async function history<T>(path: string, reader: FhirClient = c): Promise<T[]> {
  const res = await reader.get(`${path}/_history?_count=1000`);
  expect(res.status).toBe(200);
  return (res.body.entry as { resource: T }[]).map((e) => e.resource).reverse();
}

describe('If-Match updates', () => {
  test('1,000 concurrent updates on the same version: exactly one wins, 999 get 412, nothing else is written', async () => {
    const org = await organization('v1');
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        c.put(`Organization/${org.id}`, { resourceType: 'Organization', id: org.id, name: `writer-${i}` }, { 'If-Match': `W/"${org.versionId}"` }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(999);
    const winner = replies.find((r) => r.status === 200)!;
    const versions = await history<{ name: string; meta: { versionId: string } }>(`Organization/${org.id}`);
    expect(versions.map((v) => v.name)).toEqual(['v1', winner.body.name]);
    expect(versions[1]!.meta.versionId).toBe(winner.body.meta.versionId);
  });

  test('read-modify-write counters with retries lose no increment: one winner per version', async () => {
    const org = await organization('0');
    const WORKERS = 20;
    const PER_WORKER = 5;
    let attempts = 0;
    const wins: string[] = [];
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let done = 0; done < PER_WORKER; ) {
          const current = await c.get(`Organization/${org.id}`);
          expect(current.status).toBe(200);
          attempts++;
          const res = await c.put(
            `Organization/${org.id}`,
            { resourceType: 'Organization', id: org.id, name: String(Number(current.body.name) + 1) },
            { 'If-Match': `W/"${current.body.meta.versionId}"` },
          );
          expect([200, 412]).toContain(res.status);
          if (res.status === 200) {
            done++;
            wins.push(res.body.meta.versionId);
          }
        }
      }),
    );
    const total = WORKERS * PER_WORKER;
    // Conflicts really happened, and each version was won once.
    expect(attempts).toBeGreaterThan(total);
    expect(new Set(wins).size).toBe(total);
    const versions = await history<{ name: string; meta: { versionId: string } }>(`Organization/${org.id}`);
    expect(versions).toHaveLength(total + 1);
    // Version n carries counter n − 1: every increment built on the one before it.
    versions.forEach((v, i) => expect([v.meta.versionId, v.name]).toEqual([String(i + 1), String(i)]));
  });
});

test('50 parallel identical conditional creates make one resource', async () => {
  const value = `cc-${Date.now()}`;
  const body = { resourceType: 'Organization', name: 'Drop-in centre', identifier: [{ system: 'urn:linkcare:reliability:conditional', value }] };
  const ifNoneExist = `identifier=${encodeURIComponent(`urn:linkcare:reliability:conditional|${value}`)}`;
  const replies = await Promise.all(Array.from({ length: 50 }, () => c.post('Organization', body, { 'If-None-Exist': ifNoneExist })));
  const statuses = replies.map((r) => r.status).sort();
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 200)).toHaveLength(49);
  expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
  const found = await c.get(`Organization?${ifNoneExist}&_summary=count`);
  expect(found.body.total).toBe(1);
});

describe('referral transitions', () => {
  const outreach = () => client(server.fhir, ['outreach'], COMMUNITY);
  const clinic = () => client(server.fhir, ['clinician'], CLINIC);
  const asParty = (p: Party) => (p === 'requester' ? outreach() : clinic());
  let setup: { patient: string; sr: string };
  beforeAll(async () => {
    setup = await referralSetup(outreach());
  });

  /** Checks each step of a Task's history against the state machine for the party that made it. */
  function checkHistory(versions: Task[], madeBy: Map<string, Party>): void {
    for (let i = 1; i < versions.length; i++) {
      const from = versions[i - 1]!.status;
      const to = versions[i]!.status;
      if (from === to) {
        // Re-sending a closed referral unchanged is harmless; a closed one never changes status.
        continue;
      }
      const party = madeBy.get(versions[i]!.meta!.versionId!);
      expect({ from, to, allowed: party ? mayTransition(from, to, [party]) : false }).toEqual({ from, to, allowed: true });
      expect(CLOSED_STATUSES.has(from)).toBe(false);
    }
  }

  test('concurrent PUTs to different next states with the same If-Match: exactly one wins', async () => {
    const id = await sendReferral(outreach(), setup);
    const owner = clinic();
    const task = (await owner.get(`Task/${id}`)).body as Task;
    const targets: { party: Party; to: TaskStatus }[] = [
      ...allowedTransitions('requested', ['owner']).map((to) => ({ party: 'owner' as Party, to })),
      ...allowedTransitions('requested', ['requester']).map((to) => ({ party: 'requester' as Party, to })),
    ];
    const requesterView = (await outreach().get(`Task/${id}`)).body as Task;
    const attempts = Array.from({ length: 30 }, (_, i) => targets[i % targets.length]!);
    const replies = await Promise.all(
      attempts.map(({ party, to }) => {
        const base = party === 'owner' ? task : requesterView;
        return asParty(party).put(`Task/${id}`, { ...base, status: to, ...needs(to) }, { 'If-Match': `W/"${task.meta!.versionId}"` });
      }),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 412)).toBe(true);
    const winner = attempts[statuses.indexOf(200)]!;
    const versions = await history<Task>(`Task/${id}`, outreach());
    expect(versions.map((v) => v.status)).toEqual(['requested', winner.to]);
    checkHistory(versions, new Map([[versions[1]!.meta!.versionId!, winner.party]]));
  });

  test('rounds of concurrent transitions by both parties without If-Match never break the state machine', async () => {
    const rng = prng(runSeed());
    const ids = await Promise.all(Array.from({ length: 4 }, () => sendReferral(outreach(), setup)));
    const madeBy = new Map<string, Map<string, Party>>(ids.map((id) => [id, new Map()]));
    const refused = new Set<number>();
    for (let round = 0; round < 8; round++) {
      await pool(16, ids.length * 6, async (k) => {
        const id = ids[k % ids.length]!;
        const party: Party = rng.next() < 0.3 ? 'requester' : 'owner';
        const agent = asParty(party);
        const current = await agent.get(`Task/${id}`);
        expect(current.status).toBe(200);
        const task = current.body as Task;
        // Mostly moves the machine allows from what was read (which may be stale by the time it
        // lands), sometimes ones it never allows.
        const options = allowedTransitions(task.status, [party]);
        const to: TaskStatus = options.length && rng.next() < 0.85 ? rng.pick(options) : rng.pick(['completed', 'requested', 'draft', 'in-progress'] as TaskStatus[]);
        const res = await agent.put(`Task/${id}`, { ...task, status: to, ...needs(to) });
        if (res.status === 200) madeBy.get(id)!.set(res.body.meta.versionId, party);
        else refused.add(res.status);
      });
    }
    // Refusals are the state machine's (409), field rules (422) or access (403), never a failure.
    for (const s of refused) expect([403, 409, 422]).toContain(s);
    for (const id of ids) {
      const versions = await history<Task>(`Task/${id}`, outreach());
      expect(versions.length).toBeGreaterThan(1);
      checkHistory(versions, madeBy.get(id)!);
    }
  });
});
