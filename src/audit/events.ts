/**
 * Building AuditEvents in the style of IHE Basic Audit Log Patterns (BALP) on FHIR R4
 * (http://hl7.org/fhir/R4/auditevent.html, https://profiles.ihe.net/ITI/BALP/).
 * The client is named only by the client code, never by the Patient id: after an erasure, the
 * audit trail says what was done to which card number, and nothing more.
 */
import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { CLIENT_CODE_SYSTEM } from '../privacy/client-code';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
/** 0 success, 4 minor failure (refused, not found, invalid), 8 serious failure (server error). */
export type AuditOutcome = '0' | '4' | '8';

/** One thing to record, collected while a request runs. */
export interface AuditEntry {
  action: AuditAction;
  /** http://hl7.org/fhir/restful-interaction code, or `$name` of an operation. */
  subtype: string;
  outcome: AuditOutcome;
  outcomeDesc?: string;
  /** Resources acted on (`Type/id`). */
  references?: string[];
  /** Resource types searched, with the number of results. */
  query?: { types: string[]; results: number };
  /** Clients concerned (Patient ids), named by client code in the event. */
  patientIds?: string[];
  /** Clients named directly by client code (when the Patient is gone, as after an erasure). */
  clientCodes?: string[];
  /** Consents (ids) that permitted access to resources held elsewhere, when any did. */
  consents?: string[];
}

export interface AuditContext {
  principal?: Principal;
  requestId: string;
  purposeOfUse?: string;
}

const SYSTEM_USER = 'https://linkcare.example.org/fhir/sid/user';

/** Builds the AuditEvent for one entry; `codes` maps Patient ids to client codes. */
export function buildAuditEvent(ctx: AuditContext, entry: AuditEntry, codes: Map<string, string>, now = new Date()): AuditEvent {
  const entity: AuditEventEntity[] = [];
  for (const ref of entry.references ?? []) {
    entity.push({ what: { reference: ref }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } });
  }
  const named = [...(entry.patientIds ?? []).map((id) => codes.get(id)), ...(entry.clientCodes ?? [])];
  for (const code of new Set(named)) {
    entity.push({
      what: { type: 'Patient', ...(code ? { identifier: { system: CLIENT_CODE_SYSTEM, value: code } } : { display: 'client (no code)' }) },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  if (entry.query) {
    entity.push({
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' },
      description: `${entry.query.types.join(',')}: ${entry.query.results} result(s)`,
    });
  }
  for (const id of entry.consents ?? []) {
    entity.push({ what: { reference: `Consent/${id}` }, description: 'Consent that permitted the access' });
  }
  const p = ctx.principal;
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [
      entry.subtype.startsWith('$')
        ? { system: 'https://linkcare.example.org/fhir/CodeSystem/operation', code: entry.subtype.slice(1) }
        : { system: 'http://hl7.org/fhir/restful-interaction', code: entry.subtype },
    ],
    action: entry.action,
    recorded: now.toISOString(),
    outcome: entry.outcome,
    ...(entry.outcomeDesc ? { outcomeDesc: entry.outcomeDesc } : {}),
    ...(ctx.purposeOfUse ? { purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: ctx.purposeOfUse }] }] } : {}),
    agent: p
      ? [
          {
            who: { identifier: { system: SYSTEM_USER, value: p.sub } },
            altId: p.sub,
            requestor: true,
            role: p.roles.map((r) => ({ coding: [{ system: 'https://linkcare.example.org/fhir/CodeSystem/role', code: r }] })),
          },
          { who: { reference: `Organization/${p.org}` }, requestor: false },
        ]
      : [{ who: { display: 'unauthenticated caller' }, requestor: true }],
    source: {
      observer: { display: 'linkcare' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [...entity, { detail: [{ type: 'request-id', valueString: ctx.requestId }] }],
  };
}
