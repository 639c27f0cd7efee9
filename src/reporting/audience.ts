/**
 * Who sees which report. Ministries (role `reporting`) see every organisation's data, or one
 * organisation's, always small-cell suppressed; staff of an organisation (clinician, admin) see
 * only their own organisation's data, unsuppressed unless the extract is marked for release.
 * The type-level permission is the access policy's (aggregate data, MeasureReport).
 */
import type { Principal } from '../auth/principal';
import { forbidden } from '../fhir/outcome';
import { assertAllowed } from '../policy/access';

export interface Audience {
  /** Only data held by this organisation; undefined = the whole programme. */
  custodian?: string;
  suppress: boolean;
}

/** The report a principal gets for an optional subject organisation; 403 when not allowed. */
export function audienceFor(principal: Principal, subjectOrg: string | undefined, release: boolean): Audience {
  assertAllowed(principal, 'MeasureReport', 'r');
  const ministry = principal.roles.includes('reporting');
  const staff = principal.roles.includes('clinician') || principal.roles.includes('admin');
  if (!ministry) {
    if (subjectOrg !== undefined && subjectOrg !== principal.org) throw forbidden("Staff of an organisation may report on their own organisation's data only");
    return { custodian: principal.org, suppress: release };
  }
  const own = staff && subjectOrg === principal.org;
  return { ...(subjectOrg !== undefined ? { custodian: subjectOrg } : {}), suppress: release || !own };
}
