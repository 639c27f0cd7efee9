/**
 * Indicator benchmark: seeds a synthetic programme (BENCH_CLIENTS clients, default 100 000, with a
 * year of records written through the store and its indexer), then evaluates every indicator over
 * the year, all at once (as /reports/indicators does) and each alone (as $evaluate-measure does), and
 * reports each time as a ratio to a baseline measured in the same run: a full COUNT(*) of the
 * resources table (median of three). Run: npx tsx bench/reporting.ts.
 * Generates its own data (deterministic PRNG) so it does not depend on the src/seed generator.
 * BENCH_ALONE=0 times only the whole report; BENCH_REPEAT (default 3) is how often. BENCH_DB=<file>
 * keeps the seeded database there and reuses it on later runs (seeding takes minutes).
 * BENCH_PERIOD=<start>/<end> (default 2024-01-01/2024-12-31) sets the reporting period.
 * Each whole-report run also reports its CPU time (user + system: steadier than wall time on a
 * shared machine) and the process's peak resident memory during it (VmHWM, reset before the run
 * through /proc/self/clear_refs; where that is refused, the peak since the process started).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { loadSearchRegistry } from '../src/search/registry';
import { createIndexer } from '../src/search/indexer';
import { INDICATORS } from '../src/reporting/indicators';
import { evaluateIndicator, evaluateIndicators } from '../src/reporting/evaluate';
import { lastPhases } from '../src/store/sqlite/report-run';
import { Rng } from '../src/seed/prng';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100_000);
const BATCH = 2000;
const ORGS = ['kp-1', 'kp-2', 'clinic-1', 'clinic-2', 'clinic-3'];
const DAK = 'http://smart.who.int/hiv/CodeSystem/HIVConcepts';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const REG = 'https://linkcare.example.org/fhir/CodeSystem/regimen';
const cc = (system: string, code: string) => ({ coding: [{ system, code }] });

/** Seeded mulberry32 stream (src/seed/prng.ts), so runs reproduce. */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

type Rec = { resource: Resource & { id: string }; custodian: string; patient?: string };

/** The records of one client over 2024. */
function client(i: number, rnd: () => number): Rec[] {
  const pid = `p${i}`;
  const org = ORGS[i % ORGS.length]!;
  const community = org.startsWith('kp');
  const day = (): string => new Date(Date.UTC(2024, 0, 1) + Math.floor(rnd() * 365) * 86_400_000).toISOString().slice(0, 10);
  const subject = { reference: `Patient/${pid}` };
  const out: Rec[] = [];
  const add = (resource: Record<string, unknown>) => out.push({ resource: resource as unknown as Rec['resource'], custodian: org, patient: pid });
  const year = 1960 + Math.floor(rnd() * 48);
  add({ resourceType: 'Patient', id: pid, gender: rnd() < 0.8 ? 'female' : rnd() < 0.5 ? 'male' : 'other', birthDate: rnd() < 0.5 ? String(year) : `${year}-0${1 + Math.floor(rnd() * 9)}` });
  const pwid = rnd() < 0.1;
  add({ resourceType: 'Observation', id: `${pid}-kp`, status: 'final', code: cc(DAK, 'HIV.B.DE50'), subject, effectiveDateTime: '2024-01-01', valueCodeableConcept: cc(SCT, pwid ? '226034001' : '449344001') });
  const visit = day();
  add({ resourceType: 'Encounter', id: `${pid}-e`, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: community ? 'FLD' : 'AMB' }, subject, period: { start: visit } });
  const encounter = { reference: `Encounter/${pid}-e` };
  const positive = rnd() < 0.08;
  add({ resourceType: 'Observation', id: `${pid}-t`, status: 'final', code: cc(DAK, 'HIV.B.DE111'), subject, encounter, effectiveDateTime: visit, valueCodeableConcept: cc(SCT, positive ? '713742005' : '165815009') });
  if (positive) {
    add({ resourceType: 'MedicationRequest', id: `${pid}-art`, status: 'active', intent: 'order', medicationCodeableConcept: cc(REG, 'art-tld'), subject, authoredOn: visit });
    add({ resourceType: 'Observation', id: `${pid}-vl`, status: 'final', code: cc(LOINC, '23876-6'), subject, effectiveDateTime: '2024-12-01', valueQuantity: { value: rnd() < 0.85 ? 40 : 5000, unit: 'copies/mL' } });
    add({ resourceType: 'Observation', id: `${pid}-tb`, status: 'final', code: cc(SCT, '171126009'), subject, effectiveDateTime: visit, valueCodeableConcept: cc(SCT, '260385009') });
  } else if (rnd() < 0.2) {
    add({ resourceType: 'MedicationRequest', id: `${pid}-prep`, status: 'active', intent: 'order', medicationCodeableConcept: cc(REG, 'prep-ftc-tdf'), subject, encounter, authoredOn: visit });
  }
  if (rnd() < 0.03) add({ resourceType: 'MedicationRequest', id: `${pid}-pep`, status: rnd() < 0.6 ? 'completed' : 'active', intent: 'order', medicationCodeableConcept: cc(REG, 'pep-tld'), subject, authoredOn: day() });
  if (pwid) {
    add({ resourceType: 'SupplyDelivery', id: `${pid}-nsp`, status: 'completed', patient: subject, suppliedItem: { itemCodeableConcept: cc('https://linkcare.example.org/fhir/CodeSystem/commodity', 'needle-syringe') }, occurrenceDateTime: day() });
    if (rnd() < 0.5) add({ resourceType: 'MedicationRequest', id: `${pid}-ost`, status: 'active', intent: 'order', medicationCodeableConcept: cc(REG, 'ost-methadone'), subject, authoredOn: day(), dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 30 + Math.floor(rnd() * 60), unit: 'mg' } }] }] });
  }
  if (rnd() < 0.3) add({ resourceType: 'Observation', id: `${pid}-syph`, status: 'final', code: cc(LOINC, '20507-0'), subject, encounter, effectiveDateTime: visit, valueCodeableConcept: cc(SCT, rnd() < 0.05 ? '11214006' : '131194007') });
  if (rnd() < 0.2) add({ resourceType: 'Observation', id: `${pid}-hbs`, status: 'final', code: cc(LOINC, '39007-0'), subject, effectiveDateTime: visit, valueCodeableConcept: cc(SCT, rnd() < 0.05 ? '260373001' : '260415000') });
  if (rnd() < 0.1) add({ resourceType: 'Observation', id: `${pid}-hcv`, status: 'final', code: cc(LOINC, '48576-3'), subject, effectiveDateTime: visit, valueCodeableConcept: cc(SCT, '260415000') });
  if (rnd() < 0.2) add({ resourceType: 'Task', id: `${pid}-ref`, status: rnd() < 0.6 ? 'completed' : 'requested', intent: 'order', code: cc('http://hl7.org/fhir/CodeSystem/task-code', 'fulfill'), for: subject, authoredOn: visit });
  return out;
}

/** A field of /proc/self/status in MB (VmRSS, VmHWM), or NaN off Linux. */
function procStatusMb(field: string): number {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resets the peak RSS to the current RSS (Linux ≥ 4.0); false when not permitted. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

async function main(): Promise<void> {
  const kept = process.env.BENCH_DB;
  const dir = kept ? undefined : mkdtempSync(join(tmpdir(), 'linkcare-bench-reporting-'));
  const file = kept ?? join(dir!, 'bench.sqlite');
  const reuse = kept !== undefined && existsSync(file);
  const store = openSqliteStore(file, { indexer: createIndexer(loadSearchRegistry(), 'http://localhost/fhir') });
  try {
    const rnd = prng(42);
    const [, seedMs] = await timed(async () => {
      if (reuse) return;
      await store.unitOfWork(async (tx) => {
        for (const [i, org] of ORGS.entries()) {
          await tx.put({ resourceType: 'Organization', id: org, type: [cc('https://linkcare.example.org/fhir/CodeSystem/provider-type', i < 2 ? 'kp-led' : 'public')] });
        }
      });
      for (let start = 0; start < CLIENTS; start += BATCH) {
        await store.unitOfWork(async (tx) => {
          for (let i = start; i < Math.min(CLIENTS, start + BATCH); i++) {
            for (const r of client(i, rnd)) await tx.put(r.resource, { custodian: r.custodian, patient: r.patient });
          }
        });
      }
    });
    const q = store.reports!();
    // Baseline: median of three full counts, after one that warms the cache.
    await q.countResources();
    const counts: [number, number][] = [];
    for (let i = 0; i < 3; i++) counts.push(await timed(() => q.countResources()));
    const [resources, baselineMs] = counts.sort((a, b) => a[1] - b[1])[1]!;
    const ratio = (ms: number): string => `×${(ms / baselineMs).toFixed(1)}`;
    const [periodStart, periodEnd] = (process.env.BENCH_PERIOD ?? '2024-01-01/2024-12-31').split('/') as [string, string];
    const period = { periodStart, periodEnd };
    const options = { suppress: true, threshold: 4 };
    const f = (x: { count: number } | { masked: true }) => ('count' in x ? x.count : 'masked');
    console.log(`clients ${CLIENTS}, resources ${resources}, ${reuse ? `reused ${file}` : `seeding ${(seedMs / 1000).toFixed(1)} s`}`);
    console.log(`baseline COUNT(*) of resources: ${baselineMs.toFixed(1)} ms`);

    // The whole report (/reports/indicators): every indicator from one pass.
    // BENCH_REPEAT runs (default 3); the median is reported with its statement timings.
    type Run = { ms: number; cpuMs: number; rssBefore: number; rssPeak: number; all: Awaited<ReturnType<typeof evaluateIndicators>>; phases: typeof lastPhases };
    const runs: Run[] = [];
    let peakReset = true;
    for (let i = 0; i < Number(process.env.BENCH_REPEAT ?? 3); i++) {
      const rssBefore = procStatusMb('VmRSS');
      peakReset &&= resetPeakRss();
      const cpu0 = process.cpuUsage();
      const [all, ms] = await timed(() => evaluateIndicators(q, INDICATORS, period, options));
      const cpu = process.cpuUsage(cpu0);
      runs.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore, rssPeak: procStatusMb('VmHWM'), all, phases: [...lastPhases] });
    }
    const byMs = [...runs].sort((a, b) => a.ms - b.ms);
    const { all, ms: allMs, phases } = byMs[Math.floor(byMs.length / 2)]!;
    const cpuMs = [...runs].sort((a, b) => a.cpuMs - b.cpuMs)[Math.floor(runs.length / 2)]!.cpuMs;
    console.log(`\nall ${INDICATORS.length} indicators in one pass (/reports/indicators), median of ${runs.length}: ${(allMs / 1000).toFixed(2)} s = ${ratio(allMs)} the baseline`);
    console.log(`  runs: ${runs.map((r) => `${(r.ms / 1000).toFixed(2)} s`).join(', ')}; CPU time median ${(cpuMs / 1000).toFixed(2)} s`);
    console.log(`  peak RSS ${peakReset ? 'during each run' : 'since start (reset refused)'}: ${runs.map((r) => `${r.rssPeak.toFixed(0)} MB (+${(r.rssPeak - r.rssBefore).toFixed(0)} over ${r.rssBefore.toFixed(0)})`).join(', ')}`);
    console.log('statements of that pass:');
    for (const p of phases) console.log(`  ${p.name.padEnd(44)} ${p.ms.toFixed(0).padStart(7)} ms  ${ratio(p.ms).padStart(7)}  CPU ${p.cpuMs.toFixed(0).padStart(6)} ms`);

    // Each indicator alone ($evaluate-measure): its own pass. BENCH_ALONE=0 skips this part.
    if (process.env.BENCH_ALONE === '0') return;
    console.log(`\n${'indicator alone'.padEnd(24)} ${'pop'.padStart(7)} ${'num'.padStart(7)} ${'time'.padStart(10)}  ratio to baseline`);
    let aloneMs = 0;
    for (const [i, indicator] of INDICATORS.entries()) {
      const [r, ms] = await timed(() => evaluateIndicator(q, indicator, period, options));
      aloneMs += ms;
      if (JSON.stringify(r.rows) !== JSON.stringify(all[i]!.rows)) throw new Error(`${indicator.id}: alone and in the pass differ`);
      console.log(`${indicator.id.padEnd(24)} ${String(f(r.total.population)).padStart(7)} ${String(f(r.total.numerator)).padStart(7)} ${ms.toFixed(0).padStart(7)} ms  ${ratio(ms)}`);
    }
    console.log(`sum of the ${INDICATORS.length} alone: ${(aloneMs / 1000).toFixed(2)} s = ${ratio(aloneMs)} the baseline`);
  } finally {
    await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

void main();
