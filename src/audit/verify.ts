/** Verifies a store's whole audit chain in batches (bounded memory). */
import type { Store } from '../store/port';
import { type ChainProblem, GENESIS_HASH, verifyLinks } from './chain';

export interface ChainReport {
  checked: number;
  problems: ChainProblem[];
}

const BATCH = 1000;

/** Walks the chain from the start and compares its end with the recorded head. */
export async function verifyAuditChain(store: Pick<Store, 'auditChain' | 'auditHead'>): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  let last = { seq: 0, hash: GENESIS_HASH };
  let checked = 0;
  for (;;) {
    const links = await store.auditChain(last.seq, BATCH);
    if (!links.length) break;
    const r = verifyLinks(links, last);
    problems.push(...r.problems);
    last = r.last;
    checked += links.length;
    if (links.length < BATCH) break;
  }
  const head = await store.auditHead();
  if ((head?.seq ?? 0) !== last.seq || (head?.hash ?? GENESIS_HASH) !== last.hash) problems.push({ seq: head?.seq ?? 0, problem: 'head mismatch' });
  return { checked, problems };
}
