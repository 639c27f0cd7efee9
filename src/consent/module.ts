/**
 * Consent decisions and the write rules that support them: every resource gets its sensitivity
 * labels on write (so consents can permit or deny by category), and a privacy Consent must name
 * its client and say permit or deny.
 */
import type { Consent, Resource, Task } from '@medplum/fhirtypes';
import type { LinkcareModule } from '../modules';
import type { WriteRule } from '../fhir/rules';
import { unprocessable } from '../fhir/outcome';
import { ID_PATTERN, isSupportedType } from '../fhir/resource-types';
import type { StoreReader } from '../store/port';
import type { SearchPlan } from '../search/plan';
import type { Principal } from '../auth/principal';
import { canSee } from '../policy/access';
import { type SensitivityLabel, sensitivityOf, storedLabels, withSensitivityLabels } from './labels';
import { PRIVACY_SCOPE } from './decision';
import { CONSENT_STAMP } from './lookup';

/** `Type/id`, the id as the server takes ids (ID_PATTERN). */
const FOCUS_REFERENCE = new RegExp(`^([A-Za-z]+)/(${ID_PATTERN.source.slice(1, -1)})$`);

/** The focus of a Task, when it names a served type by a local reference. */
function focusOf(resource: Resource): { type: string; id: string } | undefined {
  if (resource.resourceType !== 'Task') return undefined;
  const m = FOCUS_REFERENCE.exec((resource as Task).focus?.reference ?? '');
  return m && isSupportedType(m[1]!) ? { type: m[1]!, id: m[2]! } : undefined;
}

/**
 * The labels a Task takes from its focus (a referral Task from its ServiceRequest): the Task names
 * the service in its description, so it is as sensitive as what it asks for. Read in the same unit
 * of work, so a focus written earlier in a transaction Bundle counts (one written later relabels
 * the Task: `focusRelabelRule`). With `viewer`, only a focus the viewer may see counts, so that a
 * Task pointing at another organisation's record learns nothing about it.
 */
export async function focusLabels(tx: StoreReader, resource: Resource, viewer?: Principal): Promise<SensitivityLabel[]> {
  const ref = focusOf(resource);
  if (!ref) return [];
  const focus = await tx.read(ref.type, ref.id);
  if (!focus?.resource || focus.deleted) return [];
  if (viewer && !(await canSee(viewer, focus, tx))) return [];
  return sensitivityOf(focus.resource);
}

const labelRule: WriteRule = {
  name: 'sensitivity-labels',
  async before(_ctx, tx, event) {
    if (!event.resource || event.type === 'AuditEvent') return undefined;
    const resource = event.resource as Resource;
    return withSensitivityLabels(resource, await focusLabels(tx, resource, event.principal));
  },
};

/**
 * After a resource that Tasks can be about is written (a referral's ServiceRequest, created after
 * its Task in a transaction Bundle, or changed to another service later), the Tasks about it take
 * its labels too: a server write of each Task that lacks one, keeping its holder and client.
 */
const focusRelabelRule: WriteRule = {
  name: 'task-focus-labels',
  types: ['ServiceRequest'],
  async after(_ctx, tx, event, version) {
    if (!version.resource || version.deleted) return;
    // Labelled by `labelRule` before it was stored: its meta.security holds every derived label.
    const labels = [...storedLabels(version.resource)];
    if (!labels.length) return;
    const plan: SearchPlan = {
      types: ['Task'],
      where: [{ kind: 'param', param: { base: 'Task', code: 'focus', type: 'reference' }, values: [{ type: 'reference', ref: { targetType: event.type, id: event.id } }] }],
      sort: [],
      count: 100,
      total: 'none',
    };
    for (const task of (await tx.search(plan)).matches) {
      if (!task.resource || task.deleted) continue;
      const labelled = withSensitivityLabels(task.resource, labels);
      if (labelled === task.resource) continue;
      await tx.put(labelled as Resource & { id: string }, { custodian: task.custodian, patient: task.patient, method: 'PUT' });
    }
  },
};
/** A privacy consent has a client and a base rule; anything less could not be decided safely. */
const consentShapeRule: WriteRule = {
  name: 'consent-shape',
  types: ['Consent'],
  async before(_ctx, _tx, event) {
    const consent = event.resource as Consent | undefined;
    if (!consent) return undefined;
    if (!consent.scope?.coding?.some((c) => c.code === PRIVACY_SCOPE)) return undefined;
    if (!consent.patient?.reference?.startsWith('Patient/')) {
      throw unprocessable('A privacy consent must name its client in Consent.patient', 'Consent.patient');
    }
    if (!consent.provision?.type) {
      throw unprocessable('A privacy consent needs a base rule: Consent.provision.type permit or deny', 'Consent.provision.type');
    }
    return undefined;
  },
};

/** Every Consent change raises the change counter that cached grants are checked against. */
const consentStampRule: WriteRule = {
  name: 'consent-stamp',
  types: ['Consent'],
  async after(_ctx, tx) {
    await tx.touch(CONSENT_STAMP);
  },
};

export const consentModule: LinkcareModule = {
  name: 'consent',
  rules: [labelRule, focusRelabelRule, consentShapeRule, consentStampRule],
};
