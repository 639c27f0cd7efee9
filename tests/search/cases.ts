/**
 * Shared search fixtures and queries: the cases of tests/search/search-types.test.ts and
 * search-graph.test.ts (and a few more for visibility, paging and sorting), with fixed ids, so
 * one set of (fixtures, query) pairs can be run against any store or translator. The mingo
 * cross-check (tests/search/mingo-translate.test.ts) runs each against the SQLite store and the
 * MongoDB translator and compares the ids.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Predicate } from '../../src/search/plan';

export const CASE_BASE = 'http://localhost:8080/fhir';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CODE_SYS = 'http://linkcare.example.org/client-code';

/** One fixture: a resource with a fixed id, held by `custodian`, in `patient`'s compartment. */
export interface Fixture {
  body: Resource & { id: string };
  custodian?: string;
  patient?: string;
  /** Written, then deleted: must never match. */
  deleted?: boolean;
}

const f = (body: Record<string, unknown>, custodian = 'org-a', patient?: string): Fixture => ({ body: body as unknown as Resource & { id: string }, custodian, patient });

/** Fixtures in write order (rid order). */
export const FIXTURES: Fixture[] = [
  f({ resourceType: 'Organization', id: 'clinic', name: 'Clínica São Paulo', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }] }),
  f({ resourceType: 'Organization', id: 'dic', name: 'Drop-in Centre', active: false }, 'org-b'),
  f({ resourceType: 'Organization', id: 'cbo', name: 'Community B', partOf: { reference: 'Organization/x-missing' } }, 'org-b'),
  f({
    resourceType: 'Patient', id: 'ana', gender: 'female', birthDate: '1990',
    identifier: [{ system: CODE_SYS, value: 'K7Q-2MX4', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'client code' } }],
    managingOrganization: { reference: 'Organization/clinic' },
    meta: { tag: [{ system: 'http://example.org/tags', code: 'kp' }], profile: ['http://linkcare.example.org/StructureDefinition/client'] },
  }, 'org-a', 'ana'),
  f({ resourceType: 'Patient', id: 'bo', gender: 'male', birthDate: '2001-06', identifier: [{ system: CODE_SYS, value: 'BBB-222' }], managingOrganization: { reference: `${CASE_BASE}/Organization/dic` } }, 'org-b', 'bo'),
  f({ resourceType: 'Patient', id: 'cy', gender: 'other', managingOrganization: { reference: 'Organization/cbo' } }, 'org-a', 'cy'),
  f({
    resourceType: 'Observation', id: 'vl1', status: 'final',
    code: { coding: [{ system: LOINC, code: '23876-6', display: 'HIV viral load' }], text: 'Viral load' },
    subject: { reference: 'Patient/ana' }, effectiveDateTime: '2024-03-10T10:00:00+02:00',
    valueQuantity: { value: 800, unit: 'copies/mL', system: UCUM, code: '{copies}/mL' },
  }, 'org-a', 'ana'),
  f({
    resourceType: 'Observation', id: 'vl2', status: 'amended', code: { coding: [{ system: LOINC, code: '23876-6' }] },
    subject: { reference: 'Patient/bo' }, effectivePeriod: { start: '2024-04-01', end: '2024-04-03' },
    valueQuantity: { value: 1500, unit: 'copies/mL', system: UCUM, code: '{copies}/mL' }, hasMember: [{ reference: 'Observation/vl1' }],
  }, 'org-b', 'bo'),
  f({
    resourceType: 'Observation', id: 'crp', status: 'final', code: { coding: [{ system: LOINC, code: '1988-5' }], text: 'C reactive protein' },
    subject: { reference: 'Patient/cy' }, effectiveDateTime: '2023', valueQuantity: { value: 0.012, unit: 'g/L', system: UCUM, code: 'g/L' },
  }, 'org-a', 'cy'),
  f({ resourceType: 'Observation', id: 'untyped', status: 'preliminary', code: { coding: [{ code: 'local-1' }] } }, 'org-b'),
  f({
    resourceType: 'Observation', id: 'rdt', status: 'final', code: { coding: [{ system: LOINC, code: '49905-3' }] }, subject: { reference: 'Patient/ana' },
    valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '165815009' }] },
  }, 'org-a', 'ana'),
  f({ resourceType: 'Questionnaire', id: 'q', status: 'active', url: 'http://linkcare.example.org/Questionnaire/phq9' }),
  f({ resourceType: 'Questionnaire', id: 'q2', status: 'draft', url: 'http://linkcare.example.org/Questionnaire/phq9/short' }),
  f({ resourceType: 'Immunization', id: 'imm', status: 'completed', vaccineCode: { text: 'HBV' }, patient: { reference: 'Patient/ana' }, occurrenceDateTime: '2024-01-05', protocolApplied: [{ doseNumberPositiveInt: 2 }] }, 'org-a', 'ana'),
  f({ resourceType: 'ServiceRequest', id: 'sr1', status: 'active', intent: 'order', subject: { reference: 'Patient/ana' }, code: { text: 'PEP' } }, 'org-a', 'ana'),
  f({ resourceType: 'ServiceRequest', id: 'sr2', status: 'active', intent: 'order', subject: { reference: 'Patient/bo' }, code: { text: 'PrEP' } }, 'org-b', 'bo'),
  f({ resourceType: 'Task', id: 'task1', status: 'requested', intent: 'order', focus: { reference: 'ServiceRequest/sr1' }, for: { reference: 'Patient/ana' }, owner: { reference: 'Organization/clinic' } }, 'org-a', 'ana'),
  f({ resourceType: 'Task', id: 'task2', status: 'accepted', intent: 'order', focus: { reference: 'ServiceRequest/sr2' }, for: { reference: 'Patient/bo' }, owner: { reference: 'Organization/clinic' } }, 'org-b', 'bo'),
  f({ resourceType: 'Provenance', id: 'prov', target: [{ reference: 'Task/task1' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: 'Organization/cbo' } }] }),
  f({ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'FLD' }, subject: { reference: 'Patient/ana' }, serviceProvider: { reference: 'Organization/cbo' } }, 'org-a', 'ana'),
  f({ resourceType: 'ValueSet', id: 'vs-hiv', url: 'https://linkcare.example.org/fhir/ValueSet/hiv-monitoring', status: 'active', compose: { include: [{ system: LOINC, concept: [{ code: '23876-6' }, { code: '49905-3' }] }] } }),
  { ...f({ resourceType: 'Observation', id: 'gone', status: 'final', code: { coding: [{ system: LOINC, code: '23876-6' }] }, subject: { reference: 'Patient/ana' } }, 'org-a', 'ana'), deleted: true },
  ...Array.from({ length: 12 }, (_, i) => f({ resourceType: 'Organization', id: `org${String(i).padStart(2, '0')}`, name: `Org ${String.fromCharCode(75 + (i * 7) % 12)}${i}` }, i % 2 ? 'org-a' : 'org-b')),
];

/** Enrolments: [patient, organisation]. */
export const ENROLMENTS: [string, string][] = [['ana', 'org-a'], ['bo', 'org-b'], ['cy', 'org-a'], ['cy', 'org-b']];

/** A visibility rule as the access policy builds it: shared types, enrolled Patients, own custody. */
export const VIS_ORG_A: Predicate[] = [{
  kind: 'or',
  any: [
    { kind: 'type', types: ['Organization', 'Questionnaire', 'ValueSet'] },
    { kind: 'enrolled', orgs: ['org-a'] },
    { kind: 'and', all: [{ kind: 'type', types: ['Observation', 'Task', 'ServiceRequest', 'Encounter', 'Immunization', 'Provenance'] }, { kind: 'custodian', custodians: ['org-a'] }] },
  ],
}];
/** A consent-style exception: everything but the compartment of `cy`, nor anything held by org-b. */
export const VIS_NOT: Predicate[] = [{ kind: 'not', inner: { kind: 'or', any: [{ kind: 'patient', patients: ['cy'] }, { kind: 'custodian', custodians: ['org-b'] }] } }];

/** A query case: `Type[,Type]?query`, optional visibility; `ordered` compares order, `pageSize` walks every page. */
export interface SearchCase {
  q: string;
  vis?: Predicate[];
  ordered?: boolean;
  pageSize?: number;
}

const plain = (qs: string[]): SearchCase[] => qs.map((q) => ({ q }));

export const CASES: SearchCase[] = [
  // token
  ...plain([
    `Observation?code=${LOINC}|23876-6`, 'Observation?code=23876-6', 'Observation?code=|local-1', 'Observation?code=|23876-6', `Observation?code=${LOINC}|`,
    'Observation?code=23876-6,1988-5', 'Observation?code:not=23876-6', 'Observation?code:text=viral', 'Observation?code:text=reactive', 'Observation?code:text=load',
    'Observation?status=final&code=23876-6', 'Patient?gender=female', 'Patient?identifier=K7Q-2MX4', `Patient?identifier=${CODE_SYS}|K7Q-2MX4`,
    'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|K7Q-2MX4', 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|K7Q-2MX4',
    'Patient?_tag=http://example.org/tags|kp', 'Organization?active=false', 'Observation?value-concept=165815009',
    'Observation?code:in=https://linkcare.example.org/fhir/ValueSet/hiv-monitoring', 'Observation?code:not-in=https://linkcare.example.org/fhir/ValueSet/hiv-monitoring',
  ]),
  // string
  ...plain(['Organization?name=clinica', 'Organization?name=CLÍNICA SÃO', 'Organization?name=paulo', 'Organization?name:contains=paulo', 'Organization?name:exact=Clínica São Paulo',
    'Organization?name:exact=clínica são paulo', 'Organization?name=drop,clin', 'Organization?name:contains=o k']),
  // reference
  ...plain(['Observation?subject=Patient/ana', 'Observation?subject=ana', `Observation?subject=${CASE_BASE}/Patient/bo`, 'Observation?subject:Patient=cy', 'Observation?patient=ana',
    'Patient?organization=dic', 'Immunization?patient=Patient/ana', 'Organization?partof=x-missing']),
  // date
  ...plain(['Observation?date=2024-03-10', 'Observation?date=2024-03', 'Observation?date=2024', 'Observation?date=eq2023', 'Observation?date=gt2024-03-31', 'Observation?date=lt2024',
    'Observation?date=ge2024-04-02', 'Observation?date=le2023-06', 'Observation?date=sa2024-03-31', 'Observation?date=eb2024-01-01', 'Observation?date=ne2024',
    'Observation?date=2024-03-10T08:00:00Z', 'Observation?date=2024-03-10T10:00:00Z', 'Observation?date=2024-04-02', 'Observation?date=ge2024-04-01&date=le2024-04-03',
    'Patient?birthdate=1990', 'Patient?birthdate=lt1995', 'Patient?birthdate=2001-06', 'Immunization?date=ge2024-01-05', 'Provenance?recorded=le2024-01-01']),
  // number and quantity
  ...plain(['Observation?value-quantity=800', 'Observation?value-quantity=lt1000', 'Observation?value-quantity=ge1000', 'Observation?value-quantity=ne800', 'Observation?value-quantity=ap1400',
    'Observation?value-quantity=8e2', 'Observation?value-quantity=800||{copies}/mL', `Observation?value-quantity=800|${UCUM}|{copies}/mL`, `Observation?value-quantity=12|${UCUM}|mg/L`,
    `Observation?value-quantity=1.2|${UCUM}|mg/dL`, `Observation?value-quantity=gt10|${UCUM}|mg/L`, `Observation?value-quantity=lt10|${UCUM}|mg/L`, 'Observation?value-quantity=8.0e2',
    'Observation?value-quantity=800.4', 'Observation?value-quantity=1500|http://other|copies/mL', 'Observation?value-quantity=le800||copies/mL']),
  // uri
  ...plain(['Questionnaire?url=http://linkcare.example.org/Questionnaire/phq9', 'Questionnaire?url:below=http://linkcare.example.org/Questionnaire',
    'Questionnaire?url:above=http://linkcare.example.org/Questionnaire/phq9/short', 'Patient?_profile=http://linkcare.example.org/StructureDefinition/client']),
  // :missing
  ...plain(['Patient?birthdate:missing=true', 'Patient?birthdate:missing=false', 'Patient?_profile:missing=true', 'Observation?subject:missing=true', 'Observation?value-quantity:missing=false',
    'Organization?name:missing=false', 'Questionnaire?url:missing=true', 'Observation?code-value-quantity:missing=false']),
  // composite
  ...plain([`Observation?code-value-quantity=${LOINC}|23876-6$lt1000`, 'Observation?code-value-quantity=23876-6$gt1000', `Observation?code-value-quantity=1988-5$12|${UCUM}|mg/L`,
    'Observation?code-value-concept=49905-3$http://snomed.info/sct|165815009', 'Observation?code-value-concept=49905-3$http://snomed.info/sct|713742005']),
  // _id, chains, _has
  ...plain(['Patient?_id=ana,cy,zz', 'Observation?_id=gone', `Observation?subject:Patient.identifier=${CODE_SYS}|K7Q-2MX4`, 'Observation?patient.gender=male', 'Patient?organization.name=community',
    'Task?focus:ServiceRequest.subject:Patient.identifier=BBB-222', 'Task?focus:ServiceRequest.patient.identifier=K7Q-2MX4', 'Task?focus:ServiceRequest.subject:Patient.identifier=nobody',
    'Task?focus:ServiceRequest.subject:Patient.identifier=K7Q-2MX4,BBB-222&status=accepted', 'Patient?_has:Observation:patient:code=23876-6', 'Patient?_has:Task:patient:status=accepted',
    'Organization?_has:Task:owner:status=requested', 'Patient?_has:ServiceRequest:subject:_has:Task:focus:status=requested',
    'Organization?_has:Patient:organization:_has:Observation:patient:code=49905-3']),
  // includes
  ...plain(['Task?status=requested&_include=Task:focus', 'Task?status=requested&_include=Task:focus&_include=Task:owner', 'Task?status=requested&_include=Task:focus:Patient',
    'Task?status=requested&_include=Task:focus&_include:iterate=ServiceRequest:subject', 'Task?status=requested&_include=Task:focus&_include=ServiceRequest:subject',
    'Task?status=requested&_include=Task:*', 'Task?_id=task1&_revinclude=Provenance:target', 'Patient?_id=ana&_revinclude=Observation:subject',
    'Patient?_id=bo&_revinclude=Observation:subject&_revinclude:iterate=Observation:has-member', 'Patient?_id=ana&_revinclude=Observation:subject&_revinclude:iterate=Observation:has-member',
    'Patient?_revinclude=*', 'Patient?_id=ana&_revinclude:iterate=*', 'Task?_id=task1&_include=*', 'Patient?_id=bo&_revinclude=Task:*']),
  // totals, system search
  ...plain(['Observation?_total=none', 'Observation?_summary=count&code=23876-6', 'Task,ServiceRequest?_id=task1,sr2', 'Patient,Organization?_summary=count']),
  // sorting and paging
  { q: 'Task?_sort=status,-_lastUpdated', ordered: true },
  { q: 'Patient?_sort=-gender', ordered: true },
  { q: 'Observation?_sort=date', ordered: true },
  { q: 'Observation?_sort=-date,_id', ordered: true },
  { q: 'Observation?_sort=value-quantity', ordered: true },
  { q: 'Observation?_sort=-subject', ordered: true },
  { q: 'Organization?_sort=name', ordered: true, pageSize: 5 },
  { q: 'Organization?_sort=-name,_id', ordered: true, pageSize: 4 },
  { q: 'Observation?_sort=-code', ordered: true, pageSize: 2 },
  { q: 'Organization', ordered: true, pageSize: 3 },
  // visibility (access policy, consent exceptions)
  { q: 'Observation', vis: VIS_ORG_A },
  { q: 'Patient', vis: VIS_ORG_A },
  { q: 'Observation?patient.gender=male', vis: VIS_ORG_A },
  { q: 'Patient?_has:Observation:patient:code=23876-6', vis: VIS_ORG_A },
  { q: 'Task?_include=Task:focus&_include:iterate=ServiceRequest:subject', vis: VIS_ORG_A },
  { q: 'Observation?_summary=count', vis: VIS_ORG_A },
  { q: 'Observation', vis: VIS_NOT },
  { q: 'Organization', vis: VIS_NOT },
  { q: 'Observation?_sort=-_id', vis: VIS_NOT, ordered: true, pageSize: 1 },
  { q: 'Observation?_sort=_lastUpdated', vis: VIS_ORG_A, ordered: true, pageSize: 1 },
];
