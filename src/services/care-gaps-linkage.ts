/**
 * Linkage to care made visible (docs/linkage.md): one EpisodeOfCare "HIV care" per diagnosed
 * client and organisation, derived from what that organisation holds. `waitlist` while diagnosed
 * and not on ART, `active` from ART start; period.start is the diagnosis, and extensions give the
 * ART start date and the days from diagnosis to ART, so the linkage worklist is the plain search
 * `EpisodeOfCare?type=…|hiv-care&status=waitlist` and days-to-ART is derivable from each episode.
 * Pure: the write rule (care-gaps-linkage-rule.ts) and the synthetic generator both use it.
 */
import { createHash } from 'node:crypto';
import type { EpisodeOfCare, Extension } from '@medplum/fhirtypes';
import { EXT_ART_START, EXT_DAYS_TO_ART, EXT_DIAGNOSIS, HIV_CARE_EPISODE } from '../seed/codes';
import { DAY_MS, parseDate } from './decisions/dates';

export interface LinkageFacts {
  patient: string;
  org: string;
  /** FHIR date of the first HIV-positive conclusion held by `org`. */
  diagnosisDate: string;
  /** FHIR date of the first ART prescription held by `org`, if any. */
  artStartDate?: string;
}

/**
 * The episode's id, the same for a (client, organisation) pair every time, so the server updates
 * one episode instead of searching for it, and the generator writes the id the server would.
 */
export function episodeId(patient: string, org: string): string {
  const h = createHash('sha256').update(`hiv-care\u0000${patient}\u0000${org}`).digest('hex');
  return `hivcare-${h.slice(0, 40)}`;
}

/** Whole days from diagnosis to ART start; ART recorded before the diagnosis (transfer in) counts as 0. */
export function daysToArt(diagnosisDate: string, artStartDate: string): number {
  const d = parseDate(diagnosisDate.slice(0, 10));
  const a = parseDate(artStartDate.slice(0, 10));
  if (d === undefined || a === undefined) throw new Error('daysToArt needs FHIR dates');
  return Math.max(0, Math.round((a - d) / DAY_MS));
}

/** The HIV care episode for these facts (http://hl7.org/fhir/R4/episodeofcare.html). */
export function hivCareEpisode(f: LinkageFacts): EpisodeOfCare & { id: string } {
  const diagnosis = f.diagnosisDate.slice(0, 10);
  const art = f.artStartDate?.slice(0, 10);
  const extension: Extension[] = [{ url: EXT_DIAGNOSIS, valueDate: diagnosis }];
  if (art) extension.push({ url: EXT_ART_START, valueDate: art }, { url: EXT_DAYS_TO_ART, valueInteger: daysToArt(diagnosis, art) });
  const start = art && art < diagnosis ? art : diagnosis;
  return {
    resourceType: 'EpisodeOfCare',
    id: episodeId(f.patient, f.org),
    extension,
    status: art ? 'active' : 'waitlist',
    statusHistory: art
      ? [{ status: 'waitlist', period: { start: diagnosis, end: art < diagnosis ? diagnosis : art } }, { status: 'active', period: { start: art < diagnosis ? diagnosis : art } }]
      : [{ status: 'waitlist', period: { start: diagnosis } }],
    type: [{ coding: [HIV_CARE_EPISODE], text: 'HIV care and treatment' }],
    patient: { reference: `Patient/${f.patient}` },
    managingOrganization: { reference: `Organization/${f.org}` },
    period: { start },
  };
}
