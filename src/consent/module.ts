/**
 * Consent decisions and the write rules that support them: every resource gets its sensitivity
 * labels on write (so consents can permit or deny by category), and a privacy Consent must name
 * its client and say permit or deny.
 */
import type { Consent, Resource, Task } from '@medplum/fhirtypes';
import type { LinkcareModule } from '../modules';
import type { WriteRule } from '../fhir/rules';
import { unprocessable } from '../fhir/outcome';
import { isSupportedType } from '../fhir/resource-types';
import type { StoreReader } from '../store/port';
import { type SensitivityLabel, sensitivityOf, withSensitivityLabels } from './labels';
import { PRIVACY_SCOPE } from './decision';
import { CONSENT_STAMP } from './lookup';

/**
 * The labels a Task takes from its focus (a referral Task from its ServiceRequest): the Task names
 * the service in its description, so it is as sensitive as what it asks for. Read in the same unit
 * of work, so a focus written earlier in a transaction Bundle counts.
 */
async function inheritedLabels(tx: StoreReader, resource: Resource): Promise<SensitivityLabel[]> {
  if (resource.resourceType !== 'Task') return [];
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec((resource as Task).focus?.reference ?? '');
  if (!m || !isSupportedType(m[1]!)) return [];
  const focus = await tx.read(m[1]!, m[2]!);
  return focus?.resource && !focus.deleted ? sensitivityOf(focus.resource) : [];
}

const labelRule: WriteRule = {
  name: 'sensitivity-labels',
  async before(_ctx, tx, event) {
    if (!event.resource || event.type === 'AuditEvent') return undefined;
    const resource = event.resource as Resource;
    return withSensitivityLabels(resource, await inheritedLabels(tx, resource));
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
  rules: [labelRule, consentShapeRule, consentStampRule],
};
