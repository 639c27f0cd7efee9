/**
 * FHIR Bulk Data $export (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off operations at
 * system, Patient and Group level, a durable background worker that writes NDJSON files page by
 * page, and status / download / cancel routes. See docs/export.md.
 */
import type { LinkcareModule } from '../modules';
import { DEFAULT_OPTIONS, type ExportOptions } from './options';
import { GROUP_EXPORT, PATIENT_EXPORT, SYSTEM_EXPORT } from './definitions';
import { kickOff } from './kickoff';
import { exportWorkers } from './worker';
import { exportRoutes } from './routes';

/** Builds the module; tests and the bench pass smaller pages and turns. */
export function createExportModule(overrides: Partial<ExportOptions> = {}): LinkcareModule {
  const options: ExportOptions = { ...DEFAULT_OPTIONS, ...overrides };
  return {
    name: 'export',
    registerOperations(ops) {
      ops.register({ definition: SYSTEM_EXPORT, handler: (ctx, req) => kickOff(ctx, req, 'system', options) });
      ops.register({ definition: PATIENT_EXPORT, handler: (ctx, req) => kickOff(ctx, req, 'patient', options) });
      ops.register({ definition: GROUP_EXPORT, handler: (ctx, req, target) => kickOff(ctx, req, 'group', options, target.id) });
    },
    workers: exportWorkers(options),
    routes: (app, host) => exportRoutes(app, host),
  };
}

export const exportModule: LinkcareModule = createExportModule();
