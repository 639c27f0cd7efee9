// The CommonJS module object itself, whose readFileSync the schema loader calls (a namespace import is a frozen copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('node:fs');

// Fresh module registry: the schema caches are per process, and so per module instance here.
it('parses fhir.schema.json once for the validators and the element-type table', () => {
  const read = jest.spyOn(fs, 'readFileSync');
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const schema = require('../../src/fhir/validation/schema') as typeof import('../../src/fhir/validation/schema');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { elementType } = require('../../src/fhir/validation/element-types') as typeof import('../../src/fhir/validation/element-types');
      expect(elementType('Condition', 'onsetString')).toBe('string');
      expect(elementType('Task_Input', 'valueHumanName')).toBe('HumanName');
      schema.sharedValidationSchema();
      const path = schema.fhirSchemaPath();
      expect(read.mock.calls.filter(([file]) => file === path)).toHaveLength(1);
    });
  } finally {
    read.mockRestore();
  }
}, 60_000);
