/**
 * The operation registry (http://hl7.org/fhir/R4/operations.html): each operation is registered
 * with its OperationDefinition, so the router, /fhir/OperationDefinition and the
 * CapabilityStatement are all driven by the same list.
 */
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import type { FhirContext, FhirRequest, FhirResponse } from './context';

/** Where an operation was invoked: system, type or instance level. */
export interface OperationTarget {
  type?: string;
  id?: string;
}

export interface Operation {
  definition: OperationDefinition & { code: string; id: string };
  /** GET is allowed only for operations that change nothing (`affectsState` false). */
  handler(ctx: FhirContext, req: FhirRequest, target: OperationTarget): Promise<FhirResponse>;
}

/** A single-valued input parameter for an OperationDefinition (`min` 1 makes it required). */
export function inParameter(name: string, type: string, min: number, documentation: string): OperationDefinitionParameter {
  return { name, use: 'in', min, max: '1', type, documentation };
}

export class OperationRegistry {
  private readonly ops: Operation[] = [];

  /** Adds an operation; a duplicate name at the same level is a programming error. */
  register(op: Operation): this {
    this.ops.push(op);
    return this;
  }

  /** The operation `name` (without `$`) invocable at this target, or undefined. */
  find(name: string, target: OperationTarget): Operation | undefined {
    return this.ops.find(({ definition: d }) => {
      if (d.code !== name) return false;
      if (!target.type) return d.system === true;
      const typeOk = !d.resource?.length || d.resource.includes(target.type as never);
      return typeOk && (target.id ? d.instance === true : d.type === true);
    });
  }

  /** Every OperationDefinition, for /fhir/OperationDefinition and the CapabilityStatement. */
  definitions(): OperationDefinition[] {
    return this.ops.map((o) => o.definition);
  }
}
