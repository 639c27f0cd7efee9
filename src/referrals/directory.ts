/**
 * The service directory's "open now": HealthcareService hours are local wall-clock times
 * (http://hl7.org/fhir/R4/healthcareservice-definitions.html#HealthcareService.availableTime), indexed
 * as half-hour slots by the `available-at` search parameter (src/search/project-params.ts). Open now
 * is `available-at=<the current slot>` in the directory's time zone.
 */
import type { SearchRewrite } from '../fhir/context';

const DAY_CODES: Record<string, string> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };

/**
 * The `available-at` token of the half-hour that contains `at` in `timeZone` (IANA name),
 * e.g. `tue-1330` for Tuesday 13:47 local time.
 */
export function slotOf(at: Date, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const minute = Number(get('minute')) < 30 ? '00' : '30';
  return `${DAY_CODES[get('weekday')]}-${get('hour').padStart(2, '0')}${minute}`;
}

/**
 * Rewrites `open-now=true` in a HealthcareService query into `available-at=<slot of now>`, so that
 * the parser sees only registered parameters; `open-now=false` is refused by the caller.
 */
export function rewriteOpenNow(query: [string, string][], now: Date, timeZone = 'UTC'): [string, string][] {
  return query.map(([k, v]) => (k === 'open-now' && v === 'true' ? ['available-at', slotOf(now, timeZone)] : [k, v]));
}

/** The directory's search rewrite: `open-now` is relative to the request's clock, in the configured time zone. */
export const openNowRewrite: SearchRewrite = {
  type: 'HealthcareService',
  rewrite: (query, ctx, now) => rewriteOpenNow(query, now, ctx.config.directoryTimeZone),
};
