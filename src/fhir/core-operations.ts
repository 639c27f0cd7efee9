/** Operations of the FHIR core that this server implements, with their definitions. */
import type { LinkcareModule } from '../modules';
import type { FhirContext, FhirRequest } from './context';
import { type OperationRegistry } from './operations';
import { patientEverything } from './interactions/search';

const CANONICAL = 'https://linkcare.example.org/fhir/OperationDefinition';

/** Registers the core operations on `ops`. */
export function registerCoreOperations(ops: OperationRegistry): OperationRegistry {
  return ops.register({
    definition: {
      resourceType: 'OperationDefinition',
      id: 'Patient-everything',
      url: `${CANONICAL}/Patient-everything`,
      name: 'PatientEverything',
      status: 'active',
      kind: 'operation',
      code: 'everything',
      resource: ['Patient'],
      system: false,
      type: false,
      instance: true,
      affectsState: false,
      description: "Everything in the patient's compartment the caller may see, paged (http://hl7.org/fhir/R4/patient-operation-everything.html)",
      parameter: [
        { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
        { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
        { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
        { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
      ],
    },
    handler: (ctx: FhirContext, req: FhirRequest, target) => patientEverything(ctx, req, target.id!),
  });
}

/** The core module: operations of the FHIR specification itself. */
export const coreModule: LinkcareModule = {
  name: 'core',
  registerOperations: (ops) => void registerCoreOperations(ops),
};
