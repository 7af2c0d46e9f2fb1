/**
 * @module server/operator-api/report-routes
 * The console's reports page: `GET /api/operator/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&channel=…`
 * answers the figures of `sportello report` (src/reports/, docs/reports.md) plus the channels
 * seen and the SLA targets; `&format=csv` answers the CSV download. Admins only: it shows every
 * operator's figures.
 */
import { z } from 'zod';
import { reportPeriod, reportDate } from '../../reports/period.js';
import { computeReport, historyOfChannel, reportCsv, type ReportInput } from '../../reports/report.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';

const querySchema = z.object({
  from: reportDate.optional(),
  to: reportDate.optional(),
  channel: z.string().min(1).max(64).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

/** Registers the report route. */
export function registerReportRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, clock, hours, config } = deps;
  router.route('get', '/reports', { admin: true }, async ({ req, res }) => {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    const query = querySchema.parse(Object.fromEntries([...params].filter(([k]) => ['from', 'to', 'channel', 'format'].includes(k))));
    const now = clock.now();
    const period = reportPeriod(query, now, hours.timezone);
    if ('error' in period) throw new HttpError(400, period.error);
    const history = await store.conversations.history({ from: period.from.toISOString(), to: period.to.toISOString() });
    const input: ReportInput = { history, from: period.from, to: period.to, now, hours, operators: await store.directory.listOperators() };
    const channels = Object.keys(computeReport(input).by_channel);
    const chosen = query.channel ? { ...input, history: historyOfChannel(history, query.channel) } : input;
    if (query.format === 'csv') {
      const name = `sportello-report-${query.from ?? period.from.toISOString().slice(0, 10)}${query.channel ? `-${query.channel.replace(/[^a-z0-9_-]/gi, '')}` : ''}.csv`;
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"`, 'cache-control': 'no-store' });
      res.end(reportCsv(chosen));
      return undefined;
    }
    return { report: computeReport(chosen), channels, sla_minutes: config.handoff.slaMinutes };
  });
}
