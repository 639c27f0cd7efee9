/**
 * GET /reports/indicators?periodStart&periodEnd[&subject=Organization/x][&release=true][&format=csv]:
 * every indicator at once as extract rows (JSON) or CSV (docs/reporting.md, "Extract layout").
 * Same audience rules as $evaluate-measure.
 */
import type { Express, NextFunction, Request, Response } from 'express';
import type { ModuleHost } from '../modules';
import type { Principal } from '../auth/principal';
import { AuditTrail } from '../audit/recorder';
import { badRequest } from '../fhir/outcome';
import { audienceFor } from './audience';
import { COLUMNS, extractRows, toCsv } from './csv';
import { evaluateIndicators } from './evaluate';
import { INDICATORS } from './indicators';
import { assertPeriodFor, reportRequest } from './input';
import { queriesOf } from './operation';
import { suppressionThreshold } from './settings';

const KNOWN = new Set(['periodStart', 'periodEnd', 'subject', 'release', 'format']);

/** One query value; repeated or unknown parameters are refused rather than guessed at. */
function single(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (!KNOWN.has(k)) throw badRequest(`Unknown parameter "${k}"`, k);
    if (typeof v !== 'string') throw badRequest(`Parameter "${k}" must be given once`, k);
    out[k] = v;
  }
  return out;
}

/** Registers the route. */
export function indicatorRoutes(app: Express, host: ModuleHost): void {
  app.get('/reports/indicators', ...host.authenticated, async (req: Request, res: Response, next: NextFunction) => {
    try {
      await host.ctx.ready;
      const principal = res.locals.principal as Principal;
      const q = single(req);
      const format = q.format ?? 'json';
      if (format !== 'json' && format !== 'csv') throw badRequest('format must be json or csv', 'format');
      const request = reportRequest(q, (n) => n);
      const audience = audienceFor(principal, request.subjectOrg, request.release);
      assertPeriodFor(audience, request, (n) => n);
      const queries = queriesOf(host.ctx);
      const threshold = suppressionThreshold(host.ctx.config);
      const scope = { periodStart: request.periodStart, periodEnd: request.periodEnd, ...(audience.custodian !== undefined ? { custodian: audience.custodian } : {}) };
      const results = await evaluateIndicators(queries, INDICATORS, scope, { suppress: audience.suppress, threshold });
      const trail = new AuditTrail({ principal, requestId: String(res.locals.requestId) });
      trail.add({ action: 'E', subtype: '$report-indicators', outcome: '0', references: INDICATORS.map((i) => `Measure/${i.id}`), patientIds: [] });
      await host.ctx.audit.commit(trail);
      const rows = extractRows(results);
      res.setHeader('Cache-Control', 'no-store');
      if (format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="indicators-${request.periodStart}-${request.periodEnd}.csv"`);
        res.send(toCsv(rows));
        return;
      }
      res.json({
        periodStart: request.periodStart,
        periodEnd: request.periodEnd,
        orgUnit: audience.custodian ?? 'ALL',
        suppression: { applied: audience.suppress, threshold },
        columns: COLUMNS,
        rows,
      });
    } catch (err) {
      next(err);
    }
  });
}
