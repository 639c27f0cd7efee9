/**
 * Writing collected audit entries: inside the unit of work of the write they record, or in a
 * unit of work of their own for reads and refusals. Client codes are looked up in the same
 * unit of work, so an event never names a client by Patient id.
 */
import type { Store, StoreReader, StoreTx } from '../store/port';
import { CLIENT_CODE_SYSTEM, clientCodeMemoKey } from '../privacy/client-code';
import { type AuditContext, type AuditEntry, buildAuditEvent } from './events';

/** The entries a request has collected but not yet written. */
export class AuditTrail {
  private pending: AuditEntry[] = [];

  constructor(readonly context: AuditContext) {}

  add(entry: AuditEntry): void {
    this.pending.push(entry);
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Writes the pending entries on `tx` and keeps them until `committed()`: a unit of work that the
   * store runs again writes them again.
   */
  async write(tx: StoreTx): Promise<void> {
    if (!this.pending.length) return;
    const entries = this.pending;
    const codes = await clientCodes(tx, entries.flatMap((e) => e.patientIds ?? []), tx.memo);
    const custodian = this.context.principal?.org;
    for (const entry of mergeEntries(entries)) await tx.appendAudit(buildAuditEvent(this.context, entry, codes), custodian);
  }

  /** The unit of work that wrote the entries has committed: they are on record. */
  committed(): void {
    this.pending = [];
  }

  /** Back to the first `size` entries: an attempt of a unit of work that is being run again added the rest. */
  truncate(size: number): void {
    this.pending.length = Math.min(this.pending.length, size);
  }

  /** Forgets pending entries (their unit of work rolled back; the caller records the failure instead). */
  discard(): void {
    this.pending = [];
  }
}

/**
 * Runs `work` in one unit of work and writes the trail's entries in the same unit, so a write and
 * its AuditEvent commit together. A store may run a unit more than once (the MongoDB store retries
 * a transaction after a write conflict): each attempt starts from the entries the trail held
 * before the unit, and they are forgotten only once the unit has committed.
 */
export async function auditedUnit<T>(store: Pick<Store, 'unitOfWork'>, trail: AuditTrail, work: (tx: StoreTx) => Promise<T>): Promise<T> {
  const before = trail.size;
  const result = await store.unitOfWork(async (tx) => {
    trail.truncate(before);
    const r = await work(tx);
    await trail.write(tx);
    return r;
  });
  trail.committed();
  return result;
}

/**
 * One event per kind of thing a request did: the 50 creates of a transaction Bundle become one
 * "create" event naming all 50 resources and their clients (BALP allows several entities per
 * event), not 50 events each indexed and chained. Queries and differing outcomes stay apart.
 */
export function mergeEntries(entries: AuditEntry[]): AuditEntry[] {
  const merged = new Map<string, AuditEntry>();
  const out: AuditEntry[] = [];
  for (const e of entries) {
    if (e.query) {
      out.push(e);
      continue;
    }
    const key = `${e.action}|${e.subtype}|${e.outcome}|${e.outcomeDesc ?? ''}`;
    const into = merged.get(key);
    if (!into) {
      const copy: AuditEntry = { ...e, references: [...(e.references ?? [])], patientIds: [...(e.patientIds ?? [])], clientCodes: [...(e.clientCodes ?? [])], consents: [...(e.consents ?? [])] };
      merged.set(key, copy);
      out.push(copy);
      continue;
    }
    into.references!.push(...(e.references ?? []));
    into.patientIds!.push(...(e.patientIds ?? []));
    into.clientCodes!.push(...(e.clientCodes ?? []));
    into.consents!.push(...(e.consents ?? []));
  }
  for (const e of out) {
    if (e.references) e.references = [...new Set(e.references)];
    if (e.patientIds) e.patientIds = [...new Set(e.patientIds)];
    if (e.clientCodes) e.clientCodes = [...new Set(e.clientCodes)];
    if (e.consents) e.consents = [...new Set(e.consents)];
  }
  return out;
}

/** Codes of the clients, from the unit of work's memo when a write left them there, else from their Patients. */
async function clientCodes(store: StoreReader, patientIds: string[], memo?: Map<string, unknown>): Promise<Map<string, string>> {
  const codes = new Map<string, string>();
  for (const id of new Set(patientIds)) {
    const remembered = memo?.get(clientCodeMemoKey(id));
    if (typeof remembered === 'string') {
      codes.set(id, remembered);
      continue;
    }
    const p = await store.read('Patient', id);
    const code = (p?.resource as { identifier?: { system?: string; value?: string }[] } | undefined)?.identifier?.find(
      (i) => i.system === CLIENT_CODE_SYSTEM,
    )?.value;
    if (code) codes.set(id, code);
  }
  return codes;
}
