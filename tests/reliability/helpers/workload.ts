/**
 * The write workload of the crash and shutdown tests, and the ledger of what the server
 * acknowledged. Writers create, update (If-Match on a version they know) and send transactions
 * (creates plus an update, all or nothing); every 2xx goes into the ledger, so after a restart
 * each acknowledged version can be looked up, and each transaction found whole or absent.
 */
import { randomUUID } from 'node:crypto';
import type { FhirClient } from './http';
import { pool } from './http';
import type { prng } from './random';

/** Identifier system of the resources a transaction creates; the value names the bundle. */
export const BUNDLE_SYSTEM = 'urn:linkcare:reliability:bundle';
/** Organizations each transaction creates, besides its update. */
export const BUNDLE_CREATES = 4;

/** One acknowledged version: `Organization/<id>/_history/<versionId>` must carry `name`. */
export interface Ack {
  id: string;
  versionId: string;
  name: string;
}

/** One transaction sent (acknowledged or not), with the update it carried. */
export interface SentBundle {
  marker: string;
  acked: boolean;
  target: string;
  targetName: string;
}

/** What the server said yes to, and anything it said that a healthy server would not. */
export interface Ledger {
  acks: Ack[];
  bundles: SentBundle[];
  /** Non-2xx answers to requests that should have succeeded (they fail the test). */
  unexpected: string[];
  /** Requests that never got an answer (connection refused or cut): not acknowledged. */
  unanswered: number;
}

/** An empty ledger. */
export function newLedger(): Ledger {
  return { acks: [], bundles: [], unexpected: [], unanswered: 0 };
}

type Rng = ReturnType<typeof prng>;

/** The version number in an ETag `W/"3"` or a location `…/_history/3`. */
function versionOf(etagOrLocation: string | null | undefined): string | undefined {
  return /W\/"([^"]+)"/.exec(etagOrLocation ?? '')?.[1] ?? /_history\/([^/]+)$/.exec(etagOrLocation ?? '')?.[1];
}

function idOf(location: string | undefined): string | undefined {
  return /Organization\/([^/]+)/.exec(location ?? '')?.[1];
}

/**
 * Starts `writers` loops writing through `c` until `stop()`; each loop ends at the first request
 * that gets no answer (the server is gone). `tag` makes names unique across trials.
 */
export function startWriters(c: FhirClient, ledger: Ledger, rng: Rng, writers: number, tag: string): { stop(): void; done: Promise<void> } {
  let stopped = false;
  let n = 0;
  const loop = async (w: number): Promise<void> => {
    // Resources this loop alone updates, with the version it knows is current.
    const own: { id: string; versionId: string }[] = [];
    while (!stopped) {
      const k = n++;
      const roll = rng.next();
      const op = own.length === 0 || roll < 0.4 ? 'create' : roll < 0.75 ? 'update' : 'transaction';
      try {
        if (op === 'create') {
          const name = `c-${tag}-${w}-${k}`;
          const res = await c.post('Organization', { resourceType: 'Organization', name });
          if (res.status !== 201) ledger.unexpected.push(`create → ${res.status}`);
          else {
            ledger.acks.push({ id: res.body.id, versionId: res.body.meta.versionId, name });
            own.push({ id: res.body.id, versionId: res.body.meta.versionId });
          }
        } else if (op === 'update') {
          const i = rng.int(0, own.length - 1);
          const target = own[i]!;
          const name = `u-${tag}-${w}-${k}`;
          // Until answered, the target's version is unknown: take it out of the loop's hands.
          own.splice(i, 1);
          const res = await c.put(`Organization/${target.id}`, { resourceType: 'Organization', id: target.id, name }, { 'If-Match': `W/"${target.versionId}"` });
          if (res.status !== 200) ledger.unexpected.push(`update → ${res.status}`);
          else {
            ledger.acks.push({ id: target.id, versionId: res.body.meta.versionId, name });
            own.push({ id: target.id, versionId: res.body.meta.versionId });
          }
        } else {
          const i = rng.int(0, own.length - 1);
          const target = own[i]!;
          own.splice(i, 1);
          const marker = `b-${tag}-${w}-${k}`;
          const sent: SentBundle = { marker, acked: false, target: target.id, targetName: marker };
          ledger.bundles.push(sent);
          const res = await c.post('', transaction(marker, target));
          if (res.status !== 200) ledger.unexpected.push(`transaction → ${res.status}`);
          else {
            sent.acked = true;
            const entries = res.body.entry as { response: { location?: string; etag?: string } }[];
            for (const [j, e] of entries.entries()) {
              const id = idOf(e.response.location);
              const versionId = versionOf(e.response.etag) ?? versionOf(e.response.location);
              if (!id || !versionId) ledger.unexpected.push(`transaction entry ${j} without location/etag`);
              else ledger.acks.push({ id, versionId, name: j < BUNDLE_CREATES ? `${marker}-${j}` : marker });
            }
            const last = entries[BUNDLE_CREATES]!.response;
            own.push({ id: target.id, versionId: versionOf(last.etag) ?? versionOf(last.location)! });
          }
        }
      } catch {
        // No answer: the write may or may not have happened, and nothing more will be answered.
        ledger.unanswered++;
        return;
      }
    }
  };
  const done = Promise.all(Array.from({ length: writers }, (_, w) => loop(w))).then(() => undefined);
  return { stop: () => void (stopped = true), done };
}

/** A transaction: BUNDLE_CREATES marked Organizations plus an If-Match update of `target`. */
function transaction(marker: string, target: { id: string; versionId: string }): object {
  const creates = Array.from({ length: BUNDLE_CREATES }, (_, j) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: { resourceType: 'Organization', name: `${marker}-${j}`, identifier: [{ system: BUNDLE_SYSTEM, value: marker }] },
    request: { method: 'POST', url: 'Organization' },
  }));
  const update = {
    fullUrl: `Organization/${target.id}`,
    resource: { resourceType: 'Organization', id: target.id, name: marker },
    request: { method: 'PUT', url: `Organization/${target.id}`, ifMatch: `W/"${target.versionId}"` },
  };
  return { resourceType: 'Bundle', type: 'transaction', entry: [...creates, update] };
}

/**
 * Looks every acknowledged version up (vread) and every sent transaction (all of its creates and
 * its update present, or none); returns the problems found, empty when all is well.
 */
export async function checkLedger(c: FhirClient, acks: readonly Ack[], bundles: readonly SentBundle[]): Promise<string[]> {
  const problems: string[] = [];
  await pool(8, acks.length, async (i) => {
    const a = acks[i]!;
    const res = await c.get(`Organization/${a.id}/_history/${a.versionId}`);
    if (res.status !== 200) problems.push(`acknowledged Organization/${a.id}/_history/${a.versionId} → ${res.status}`);
    else if (res.body.name !== a.name || res.body.meta?.versionId !== a.versionId) {
      problems.push(`Organization/${a.id}/_history/${a.versionId} holds name ${res.body.name}, expected ${a.name}`);
    }
  });
  await pool(8, bundles.length, async (i) => {
    const b = bundles[i]!;
    const found = await c.get(`Organization?identifier=${encodeURIComponent(`${BUNDLE_SYSTEM}|${b.marker}`)}&_summary=count`);
    const history = await c.get(`Organization/${b.target}/_history?_count=1000`);
    if (found.status !== 200 || history.status !== 200) {
      problems.push(`transaction ${b.marker}: lookup failed (${found.status}, ${history.status})`);
      return;
    }
    const creates = found.body.total as number;
    const updated = (history.body.entry ?? []).some((e: { resource?: { name?: string } }) => e.resource?.name === b.targetName);
    const whole = creates === BUNDLE_CREATES && updated;
    const absent = creates === 0 && !updated;
    if (!whole && !absent) problems.push(`transaction ${b.marker} partly applied: ${creates} of ${BUNDLE_CREATES} creates, update ${updated ? 'present' : 'absent'}`);
    if (b.acked && !whole) problems.push(`acknowledged transaction ${b.marker} is not all there`);
  });
  return problems;
}
