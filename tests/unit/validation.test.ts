import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { buildValidators } from '../../scripts/build-validators';
import {
  createResourceValidator,
  generatedValidatorsStatus,
  type ResourceValidator,
} from '../../src/fhir/validation/validator';

const KP_PROFILE = 'http://linkcare.example/fhir/StructureDefinition/kp-patient';
const OBS_PROFILE = 'http://linkcare.example/fhir/StructureDefinition/viral-load';
const profileSchemas = new Map<string, object>([
  [KP_PROFILE, { type: 'object', required: ['birthDate'], properties: { gender: { enum: ['female', 'other'] } } }],
  [OBS_PROFILE, { type: 'object', properties: { resourceType: { const: 'Observation' } } }],
]);

let generated: ResourceValidator;
let runtime: ResourceValidator;

beforeAll(() => {
  // The module is gitignored; a fresh checkout has to build it once (a few seconds).
  if (generatedValidatorsStatus() !== 'fresh') buildValidators();
  generated = createResourceValidator({ source: 'generated', profileSchemas });
  runtime = createResourceValidator({ source: 'runtime', profileSchemas });
}, 120_000);

type Found = { expression: string | undefined; code: string };
const summary = (issues: OperationOutcomeIssue[]): Found[] =>
  issues
    .map((i) => ({ expression: i.expression?.[0], code: i.code }))
    .sort((a, b) => String(a.expression).localeCompare(String(b.expression)));
const check = (resource: unknown): Found[] => summary(generated.validate(resource));

const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Patient',
  id: 'p1',
  active: true,
  name: [{ family: 'Moyo', given: ['Thandi'] }],
  gender: 'female',
  birthDate: '1990-02-01',
  ...extra,
});
const observation = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '25836-8', display: 'HIV 1 RNA' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-03-01T10:00:00Z',
  valueQuantity: { value: 40, unit: 'copies/mL', system: 'http://unitsofmeasure.org', code: '{copies}/mL' },
  ...extra,
});
const task = { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: 'Patient/p1' } };
const bundle = (resource: unknown): Record<string, unknown> => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [{ fullUrl: 'urn:uuid:0b9f8c36-6c1f-4d3c-9d0a-1e1f3a3c2b11', resource, request: { method: 'POST', url: 'Observation' } }],
});

describe('valid resources', () => {
  it.each([
    ['Patient', patient()],
    ['Observation', observation()],
    ['Task', task],
    ['Bundle', bundle(observation())],
    ['primitive given only as extension', observation({ status: undefined, _status: { extension: [{ url: 'http://x.org/e', valueCode: 'x' }] } })],
  ])('%s passes', (_name, resource) => {
    expect(check(JSON.parse(JSON.stringify(resource)))).toEqual([]);
  });
});

describe('one mistake, one issue', () => {
  it.each([
    ['unknown element', patient({ foo: 1 }), 'Patient.foo', 'structure'],
    ['unknown element needing backticks', patient({ 'foo-bar': 1 }), 'Patient.`foo-bar`', 'structure'],
    ['wrong primitive type', patient({ active: 'yes' }), 'Patient.active', 'value'],
    ['object where an array belongs', patient({ name: { family: 'Moyo' } }), 'Patient.name', 'structure'],
    ['bad date', patient({ birthDate: '1990-13-01' }), 'Patient.birthDate', 'value'],
    ['code outside its enum', patient({ gender: 'F' }), 'Patient.gender', 'value'],
    ['code breaking the code pattern', observation({ code: { coding: [{ code: 'two  spaces' }] } }), 'Observation.code.coding[0].code', 'value'],
    ['id breaking the id pattern', patient({ id: 'has space' }), 'Patient.id', 'value'],
    ['fraction in an integer', patient({ multipleBirthInteger: 1.5 }), 'Patient.multipleBirthInteger', 'value'],
    ['negative unsignedInt', patient({ photo: [{ contentType: 'image/png', size: -1 }] }), 'Patient.photo[0].size', 'value'],
    ['bad base64 in a choice variant', patient({ extension: [{ url: 'http://x.org/e', valueBase64Binary: 'no!' }] }), 'Patient.extension[0].valueBase64Binary', 'value'],
    ['narrative div that is not a string', patient({ text: { status: 'generated', div: 5 } }), 'Patient.text.div', 'value'],
    ['empty string', patient({ name: [{ family: '' }] }), 'Patient.name[0].family', 'value'],
    ['whitespace-only string', patient({ name: [{ family: ' \t' }] }), 'Patient.name[0].family', 'value'],
    ['empty array', patient({ name: [] }), 'Patient.name', 'structure'],
    ['empty object', patient({ address: [{}] }), 'Patient.address[0]', 'structure'],
    ['missing required choice', { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' } }, 'MedicationRequest.medication', 'required'],
    ['extension without url', patient({ extension: [{ valueString: 'x' }] }), 'Patient.extension[0].url', 'required'],
  ])('%s', (_name, resource, expression, code) => {
    expect(check(resource)).toEqual([{ expression, code }]);
  });

  it('names the expected element for a missing required element', () => {
    const issues = generated.validate(observation({ status: undefined }));
    expect(issues.map((i) => i.diagnostics)).toEqual(["Missing required element 'status'"]);
  });

  it('says which element is unknown', () => {
    expect(generated.validate(patient({ foo: 1 }))[0].diagnostics).toBe("Unknown element 'foo'");
  });
});

describe('missing required elements', () => {
  it('reports Observation.status (a primitive the HL7 schema does not require) and Observation.code', () => {
    expect(check({ resourceType: 'Observation' })).toEqual([
      { expression: 'Observation.code', code: 'required' },
      { expression: 'Observation.status', code: 'required' },
    ]);
  });
});

describe('nested resources', () => {
  it('validates contained resources against their own type', () => {
    const resource = patient({ contained: [{ resourceType: 'Practitioner', id: 'pr1', active: 'yes' }] });
    expect(check(resource)).toEqual([{ expression: 'Patient.contained[0].active', code: 'value' }]);
  });

  it('prefixes Bundle entry issues with the entry path', () => {
    expect(check(bundle(observation({ status: 'bogus' })))).toEqual([
      { expression: 'Bundle.entry[0].resource.status', code: 'value' },
    ]);
  });

  it('checks the transaction request of an entry', () => {
    const b = bundle(observation());
    (b.entry as Record<string, unknown>[])[0].request = { url: 'Observation' };
    expect(check(b)).toEqual([{ expression: 'Bundle.entry[0].request.method', code: 'required' }]);
  });

  it('follows Parameters parts', () => {
    const params = { resourceType: 'Parameters', parameter: [{ name: 'a', part: [{ name: 'b', resource: patient({ active: 1 }) }] }] };
    expect(check(params)).toEqual([{ expression: 'Parameters.parameter[0].part[0].resource.active', code: 'value' }]);
  });

  it('rejects unknown and unserved nested resource types', () => {
    const resource = patient({ contained: [{ resourceType: 'Nonsense', id: 'a' }, { resourceType: 'Device', id: 'b' }] });
    expect(check(resource)).toEqual([
      { expression: 'Patient.contained[0]', code: 'structure' },
      { expression: 'Patient.contained[1]', code: 'not-supported' },
    ]);
  });

  it('reports a nested resource without resourceType once', () => {
    expect(check(patient({ contained: [{ id: 'x' }] }))).toEqual([
      { expression: 'Patient.contained[0].resourceType', code: 'required' },
    ]);
  });
});

describe('top-level type', () => {
  it.each([
    ['a FHIR type this server does not serve', { resourceType: 'Device' }, 'not-supported'],
    ['an unknown type', { resourceType: 'Nonsense' }, 'structure'],
    ['a missing resourceType', { id: 'x' }, 'required'],
    ['a non-object', 'Patient', 'structure'],
  ])('rejects %s with one issue', (_name, resource, code) => {
    expect(check(resource)).toEqual([{ expression: undefined, code }]);
  });
});

describe('profile schemas', () => {
  it('applies a known profile named in meta.profile', () => {
    const resource = patient({ meta: { profile: [KP_PROFILE] }, birthDate: undefined, gender: 'male' });
    expect(check(JSON.parse(JSON.stringify(resource)))).toEqual([
      { expression: 'Patient.birthDate', code: 'required' },
      { expression: 'Patient.gender', code: 'value' },
    ]);
    expect(generated.validate(resource)[0].diagnostics).toContain(KP_PROFILE);
  });

  it('says which resourceType a profile expected', () => {
    const issues = generated.validate(patient({ meta: { profile: [OBS_PROFILE] } }));
    expect(summary(issues)).toEqual([{ expression: 'Patient.resourceType', code: 'value' }]);
    expect(issues[0].diagnostics).toBe(`Expected resourceType 'Observation', found 'Patient' (profile ${OBS_PROFILE})`);
  });

  it('ignores profile URLs it has no schema for', () => {
    const resource = patient({ meta: { profile: ['http://example.org/unknown'] }, gender: 'male' });
    expect(check(resource)).toEqual([]);
  });

  it('applies profiles to contained resources with the nested path', () => {
    const resource = observation({ contained: [patient({ id: 'c1', meta: { profile: [KP_PROFILE] }, gender: 'male' })] });
    expect(check(resource)).toEqual([{ expression: 'Observation.contained[0].gender', code: 'value' }]);
  });
});

describe('generated module and runtime fallback', () => {
  it('uses the source that was asked for', () => {
    expect(generated.source).toBe('generated');
    expect(runtime.source).toBe('runtime');
  });

  it('report identical issues', () => {
    const samples: unknown[] = [
      patient(),
      patient({ foo: 1, active: 'yes', birthDate: '1990-13-01', gender: 'F', name: [{ family: '', given: [] }] }),
      { resourceType: 'Observation' },
      observation({ code: { coding: [{ code: 'two  spaces' }] }, meta: { profile: [KP_PROFILE] } }),
      bundle(observation({ status: 'bogus', contained: [{ resourceType: 'Nonsense' }] })),
      patient({ meta: { profile: [KP_PROFILE] }, birthDate: undefined }),
      { resourceType: 'Device' },
      task,
    ];
    for (const sample of samples) {
      const resource = JSON.parse(JSON.stringify(sample)) as unknown;
      expect(runtime.validate(resource)).toEqual(generated.validate(resource));
    }
  }, 60_000);
});
