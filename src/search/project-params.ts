/**
 * The project's own SearchParameters (beyond R4's), served at /fhir/SearchParameter and
 * indexed like the official ones. Later issues add consent, referral and linkage parameters here.
 */
import type { SearchParameter } from '@medplum/fhirtypes';

const BASE = 'https://linkcare.example.org/fhir/SearchParameter';

/** Task deadline: `Task.restriction.period.end`, for overdue referral worklists. */
const taskDeadline: SearchParameter = {
  resourceType: 'SearchParameter',
  id: 'Task-deadline',
  url: `${BASE}/Task-deadline`,
  name: 'deadline',
  status: 'active',
  description: 'When the referral must be done by (Task.restriction.period.end)',
  code: 'deadline',
  base: ['Task'],
  type: 'date',
  expression: 'Task.restriction.period.end',
};

export const PROJECT_SEARCH_PARAMETERS: SearchParameter[] = [taskDeadline];
