/**
 * Throughput scenarios (autocannon): the two hello-world baselines and linkcare's REST
 * interactions against the seeded programme, as a clinician of one organisation. Ids, client codes
 * and patients come from the data set (bench/dataset.ts), so every request hits real, visible data.
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_CODE_SYSTEM } from '../../src/privacy/client-code';
import type { LoadScenario } from '../load';
import type { Sample } from '../dataset';
import type { Target } from '../server';
import { authHeaders, rotate, withBody } from './common';

/** Entries per transaction Bundle (issue #9: "a 50-entry transaction"). */
export const BUNDLE_SIZE = 50;
const LOINC = 'http://loinc.org';
/** HIV 1+2 Ab rapid test: the commonest Observation code of the generated programme (docs/seed.md). */
const COMMON_TEST = `${LOINC}|49905-3`;

/** `GET /` on a hello-world server (express or node:http). */
export function helloScenario(name: string, target: Target): LoadScenario {
  return {
    name, shape: 'GET / → {"hello":"world"}', target, expectStatus: 200, resourcesPerRequest: 0, headers: {},
    next: () => ({ path: '/' }),
    checkBody: (body) => (JSON.parse(body).hello === 'world' ? undefined : 'unexpected body'),
  };
}

/** A viral-load result for a client, shaped like the generator's (src/seed/hiv.ts). */
export function viralLoad(patient: string, i: number): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: LOINC, code: '23876-6' }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: `2025-06-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
    valueQuantity: { value: 20 + (i % 1000), unit: 'copies/mL', system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
  };
}

const isBundle = (type: string) => (body: string): string | undefined => {
  const b = JSON.parse(body) as { resourceType?: string; type?: string };
  return b.resourceType === 'Bundle' && b.type === type ? undefined : `expected a ${type} Bundle`;
};

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/**
 * Clients whose current version the bench knows, handed out one at a time: a PUT carries the
 * version it read in If-Match, and the client returns to the pool with the version the response
 * reports, so concurrent connections never race on one client (which would measure 412s).
 */
export class VersionPool {
  private readonly free: string[] = [];
  private readonly current = new Map<string, { version: string; resource: Record<string, unknown> }>();

  /** Loads each client's current version through the API (as the clinician). */
  async load(target: Target, headers: Record<string, string>, ids: string[]): Promise<void> {
    for (const id of ids) {
      const res = await fetch(`${target.base}/fhir/Patient/${id}`, { headers });
      const resource = (await res.json()) as Record<string, unknown> & { meta?: { versionId?: string } };
      if (res.status !== 200 || !resource.meta?.versionId) throw new Error(`update pool: GET Patient/${id} gave ${res.status}`);
      const version = resource.meta.versionId;
      delete resource.meta;
      this.current.set(id, { version, resource });
      this.free.push(id);
    }
  }

  /** The next free client as a PUT with If-Match, flipping `active` so every update changes something. */
  take(): { path: string; method: 'PUT'; body: string; headers: Record<string, string> } {
    const id = this.free.shift() ?? [...this.current.keys()][0]!;
    const entry = this.current.get(id)!;
    entry.resource.active = !entry.resource.active;
    return { path: `/fhir/Patient/${id}`, method: 'PUT', body: JSON.stringify(entry.resource), headers: { 'if-match': `W/"${entry.version}"` } };
  }

  /** Records the version a response reports and frees its client. */
  settle(headers: Record<string, string | string[]>): void {
    const m = /\/Patient\/([^/]+)\/_history\/([^/]+)$/.exec(header(headers, 'location') ?? '');
    if (!m) return;
    const entry = this.current.get(m[1]!);
    if (!entry) return;
    entry.version = m[2]!;
    this.free.push(m[1]!);
  }
}

/** The linkcare REST scenarios, in the order they run (reads before writes). */
export function linkcareScenarios(target: Target, sample: Sample, pool: VersionPool): LoadScenario[] {
  const clinician = authHeaders(['clinician'], sample.org);
  const patient = rotate(sample.patients);
  const code = rotate(sample.clientCodes);
  const referral = rotate(sample.referralCodes);
  let counter = 0;
  return [
    {
      name: 'read Patient by id', shape: 'GET /fhir/Patient/{id}', target, expectStatus: 200, resourcesPerRequest: 1, headers: clinician,
      next: () => ({ path: `/fhir/Patient/${patient()}` }),
      checkBody: (body) => (JSON.parse(body).resourceType === 'Patient' ? undefined : 'body is not a Patient'),
    },
    {
      name: 'token search: Patient by client code', shape: 'GET /fhir/Patient?identifier={system}|{code}', target, expectStatus: 200,
      resourcesPerRequest: 1, headers: clinician,
      next: () => ({ path: `/fhir/Patient?identifier=${encodeURIComponent(`${CLIENT_CODE_SYSTEM}|${code()}`)}` }),
      checkBody: (body) => (JSON.parse(body).entry?.length === 1 ? undefined : 'expected exactly one Patient'),
    },
    {
      name: 'token search: Observation by common test code', shape: `GET /fhir/Observation?code=${COMMON_TEST}&_count=20`, target,
      expectStatus: 200, resourcesPerRequest: 20, headers: clinician,
      next: () => ({ path: `/fhir/Observation?code=${encodeURIComponent(COMMON_TEST)}&_count=20` }),
      checkBody: isBundle('searchset'),
    },
    {
      name: 'token search: Patient by client code, 1 connection', shape: 'the same, one request at a time', target, expectStatus: 200,
      resourcesPerRequest: 1, headers: clinician, connections: 1,
      next: () => ({ path: `/fhir/Patient?identifier=${encodeURIComponent(`${CLIENT_CODE_SYSTEM}|${code()}`)}` }),
      checkBody: (body) => (JSON.parse(body).entry?.length === 1 ? undefined : 'expected exactly one Patient'),
    },
    {
      name: 'token search: Observation by common test code, 1 connection', shape: 'the same, one request at a time', target,
      expectStatus: 200, resourcesPerRequest: 20, headers: clinician, connections: 1,
      next: () => ({ path: `/fhir/Observation?code=${encodeURIComponent(COMMON_TEST)}&_count=20` }),
      checkBody: isBundle('searchset'),
    },
    {
      name: 'two-level chained search', shape: 'GET /fhir/Task?focus:ServiceRequest.subject:Patient.identifier={code}', target,
      expectStatus: 200, resourcesPerRequest: 0, headers: clinician,
      next: () => ({ path: `/fhir/Task?focus:ServiceRequest.subject:Patient.identifier=${encodeURIComponent(referral())}` }),
      checkBody: isBundle('searchset'),
    },
    {
      name: '$care-gaps', shape: 'GET /fhir/Patient/{id}/$care-gaps?asOf={reference date}', target, expectStatus: 200,
      resourcesPerRequest: 0, headers: clinician,
      next: () => ({ path: `/fhir/Patient/${patient()}/$care-gaps?asOf=${sample.periodEnd}` }),
      checkBody: (body) => (JSON.parse(body).resourceType === 'Parameters' ? undefined : 'expected Parameters'),
    },
    {
      name: 'create Observation', shape: 'POST /fhir/Observation (viral load of a client)', target, expectStatus: 201,
      resourcesPerRequest: 1, headers: withBody(clinician),
      next: () => ({ path: '/fhir/Observation', method: 'POST', body: JSON.stringify(viralLoad(patient(), counter++)) }),
    },
    {
      name: 'update Patient with If-Match', shape: 'PUT /fhir/Patient/{id}, If-Match: W/"{current version}"', target, expectStatus: 200,
      resourcesPerRequest: 1, headers: withBody(clinician),
      next: () => pool.take(),
      onResponse: (_status, headers) => pool.settle(headers),
    },
    {
      name: `transaction of ${BUNDLE_SIZE} Observations`, shape: `POST /fhir, transaction Bundle of ${BUNDLE_SIZE} Observation POSTs`, target,
      expectStatus: 200, resourcesPerRequest: BUNDLE_SIZE, headers: withBody(clinician),
      next: () => ({ path: '/fhir', method: 'POST', body: transactionBundle(patient, () => counter++) }),
      checkBody: checkTransactionResponse,
    },
  ];
}

function transactionBundle(patient: () => string, n: () => number): string {
  const entry = Array.from({ length: BUNDLE_SIZE }, () => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: viralLoad(patient(), n()),
    request: { method: 'POST', url: 'Observation' },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
}

function checkTransactionResponse(body: string): string | undefined {
  const bundle = JSON.parse(body) as { type?: string; entry?: { response?: { status?: string } }[] };
  if (bundle.type !== 'transaction-response') return `expected a transaction-response, got type ${bundle.type}`;
  const created = (bundle.entry ?? []).filter((e) => e.response?.status?.startsWith('201')).length;
  return created === BUNDLE_SIZE ? undefined : `only ${created} of ${BUNDLE_SIZE} entries report 201`;
}
