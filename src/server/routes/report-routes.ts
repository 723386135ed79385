/** Scan, audit and probe reports: ingested by tools with an `ingest` token, read by viewers. */
import { NomineError } from '../../core/errors.ts';
import { principalKey } from '../auth/principal.ts';
import { idParams } from '../schemas/common-schemas.ts';
import { idempotencyHeaders, reportDetail, reportEnvelope, reportKindParams, reportListQuery, reportListResponse, reportSummary } from '../schemas/report-schemas.ts';
import { getReport, ingestReport, listReports } from '../report-archive.ts';
import { toReportView } from '../console/report-view.ts';
import { reportView } from '../schemas/console-schemas.ts';
import { defineRoute, principalOf } from '../server-route.ts';

export const replayHeader = 'idempotent-replayed';

export const reportRoutes = {
  ingestReport: defineRoute({
    method: 'POST',
    url: '/api/reports/:kind',
    access: 'ingest',
    summary: 'Store a scan, audit or probe report; idempotent by the Idempotency-Key header',
    tags: ['reports'],
    bodyLimit: (limits) => limits.maxReportBytes,
    schema: { params: reportKindParams, headers: idempotencyHeaders, body: reportEnvelope, response: { 201: reportSummary } },
    handler: async (request, reply, context) => {
      if (request.body.kind !== request.params.kind) {
        throw new NomineError('invalid-input', `the body's kind is ${request.body.kind} but the URL says ${request.params.kind}`, 'body.kind');
      }
      const result = await ingestReport(context.db, request.body, {
        submittedBy: principalKey(principalOf(request)),
        idempotencyKey: request.headers['idempotency-key'],
        now: context.now(),
      });
      context.metrics.reportsIngested.inc({ kind: request.body.kind, replayed: String(result.replayed) });
      reply.code(201).header(replayHeader, String(result.replayed));
      return result.summary;
    },
  }),
  listReports: defineRoute({
    method: 'GET',
    url: '/api/reports',
    access: 'viewer',
    summary: 'List reports, newest first',
    tags: ['reports'],
    schema: { querystring: reportListQuery, response: { 200: reportListResponse } },
    handler: async (request, _reply, context) => ({ reports: await listReports(context.db, request.query) }),
  }),
  getReport: defineRoute({
    method: 'GET',
    url: '/api/reports/:id',
    access: 'viewer',
    summary: 'One report with its document',
    tags: ['reports'],
    schema: { params: idParams, response: { 200: reportDetail } },
    handler: async (request, _reply, context) => getReport(context.db, request.params.id),
  }),
  getReportView: defineRoute({
    method: 'GET',
    url: '/api/reports/:id/view',
    access: 'viewer',
    summary: 'One report as the console shows it: a scan as flagged files with their evidence, an audit or probe as checks with their results',
    tags: ['reports'],
    schema: { params: idParams, response: { 200: reportView } },
    handler: async (request, _reply, context) => {
      const { report, ...summary } = await getReport(context.db, request.params.id);
      return toReportView(summary, report);
    },
  }),
};
