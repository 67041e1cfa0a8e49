import { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import { requireRole } from '../http/auth.js';
import { actorOf } from '../shared/principal.js';
import { InvalidInput } from '../shared/errors.js';
import { OVERVIEW_MAX_DAYS, type ComplianceOverviewUseCase } from './compliance-overview.js';
import { REPORT_FILES, reportRowsCsv, reportTotalsCsv } from './report-csv.js';
import type { RetentionReportUseCase } from './retention-report.js';

/** A day (YYYY-MM-DD, midnight UTC) or an instant with an offset; always returned as ISO UTC. */
const instant = z
  .union([z.iso.date().transform((d) => `${d}T00:00:00.000Z`), z.iso.datetime({ offset: true })])
  .transform((v) => new Date(v).toISOString());

export const retentionReportQuery = z.strictObject({ from: instant, to: instant, format: z.enum(['json', 'csv', 'csv-totals']).optional() });

export const overviewQuery = z.strictObject({ from: instant, to: instant });

export function reportsRoutes(deps: { retentionReport: RetentionReportUseCase; complianceOverview: ComplianceOverviewUseCase }): Router {
  const router = Router();
  router.get('/v1/reports/retention', requireRole('auditor', 'admin'), async (req, res) => {
    const q = parseInput(retentionReportQuery, req.query, { code: 'invalid-query', what: 'query' });
    if (q.to <= q.from) throw new InvalidInput('invalid-query', 'to must be after from', { errors: [{ pointer: '/to', code: 'not-after', detail: 'must be after from' }] });
    const format = q.format ?? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json');
    const report = await deps.retentionReport(actorOf(req.principal!), { from: q.from, to: q.to, format });
    res.set('Cache-Control', 'no-store');
    if (format === 'csv') res.type('text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${REPORT_FILES.rows}"`).send(reportRowsCsv(report));
    else if (format === 'csv-totals') res.type('text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${REPORT_FILES.totals}"`).send(reportTotalsCsv(report));
    else res.json(report);
  });

  // The compliance overview's figures; its totals are the retention report's for the same period.
  router.get('/v1/reports/overview', requireRole('auditor', 'admin'), async (req, res) => {
    const q = parseInput(overviewQuery, req.query, { code: 'invalid-query', what: 'query' });
    if (q.to <= q.from) throw new InvalidInput('invalid-query', 'to must be after from', { errors: [{ pointer: '/to', code: 'not-after', detail: 'must be after from' }] });
    if (Date.parse(q.to) - Date.parse(q.from) > (OVERVIEW_MAX_DAYS + 1) * 86_400_000) {
      throw new InvalidInput('invalid-query', `the overview covers at most ${OVERVIEW_MAX_DAYS} days`, { errors: [{ pointer: '/to', code: 'period-too-long', detail: `at most ${OVERVIEW_MAX_DAYS} days after from`, limit: OVERVIEW_MAX_DAYS }] });
    }
    res.set('Cache-Control', 'no-store').json(await deps.complianceOverview({ from: q.from, to: q.to }));
  });
  return router;
}
