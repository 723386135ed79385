/**
 * The archive of ingested scan, audit and probe reports. Ingestion is idempotent per submitter and
 * Idempotency-Key: a replay returns the first stored report, a reused key with a different body is a conflict.
 */
import { createHash, randomUUID } from 'node:crypto';
import { NomineError } from '../core/errors.ts';
import { isUniqueViolation } from './auth/users.ts';
import type { ReportEnvelope, ReportKind, ReportSummary } from './schemas/report-schemas.ts';
import type { ServerStore } from './server-store.ts';

export interface Ingested {
  summary: ReportSummary;
  replayed: boolean;
}

interface ReportRow {
  id: string;
  kind: string;
  tool_name: string;
  tool_version: string;
  generated_at: string;
  received_at: number;
  submitted_by: string;
  body_sha256: string;
}

const summaryColumns = ['id', 'kind', 'tool_name', 'tool_version', 'generated_at', 'received_at', 'submitted_by', 'body_sha256'] as const;

export async function ingestReport(db: ServerStore, envelope: ReportEnvelope, submission: { submittedBy: string; idempotencyKey: string; now: number }): Promise<Ingested> {
  const document = JSON.stringify(envelope.report);
  const bodySha256 = createHash('sha256').update(JSON.stringify({ ...envelope, report: undefined })).update(document).digest('hex');
  const existing = await findByKey(db, submission.submittedBy, submission.idempotencyKey);
  if (existing) return replay(existing, bodySha256, submission.idempotencyKey);
  const row = {
    id: randomUUID(),
    kind: envelope.kind,
    tool_name: envelope.tool.name,
    tool_version: envelope.tool.version,
    generated_at: envelope.generatedAt,
    received_at: submission.now,
    submitted_by: submission.submittedBy,
    idempotency_key: submission.idempotencyKey,
    body_sha256: bodySha256,
    document,
  };
  try {
    await db.insertInto('server_reports').values(row).execute();
  } catch (error) {
    // Two deliveries of one report raced: the loser answers as a replay of the winner.
    if (!isUniqueViolation(error)) throw error;
    const winner = await findByKey(db, submission.submittedBy, submission.idempotencyKey);
    if (!winner) throw error;
    return replay(winner, bodySha256, submission.idempotencyKey);
  }
  return { summary: toSummary(row), replayed: false };
}

export async function listReports(db: ServerStore, query: { kind?: ReportKind; limit: number }): Promise<ReportSummary[]> {
  let select = db.selectFrom('server_reports').select(summaryColumns);
  if (query.kind) select = select.where('kind', '=', query.kind);
  const rows = await select.orderBy('received_at', 'desc').orderBy('id').limit(query.limit).execute();
  return rows.map(toSummary);
}

export async function getReport(db: ServerStore, id: string): Promise<ReportSummary & { report: Record<string, unknown> }> {
  const row = await db.selectFrom('server_reports').select([...summaryColumns, 'document']).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NomineError('not-found', 'no report has this id', `report ${id}`);
  return { ...toSummary(row), report: JSON.parse(row.document) as Record<string, unknown> };
}

async function findByKey(db: ServerStore, submittedBy: string, idempotencyKey: string): Promise<ReportRow | undefined> {
  return db.selectFrom('server_reports').select(summaryColumns).where('submitted_by', '=', submittedBy).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}

function replay(row: ReportRow, bodySha256: string, key: string): Ingested {
  if (row.body_sha256 !== bodySha256) {
    throw new NomineError('conflict', 'this Idempotency-Key was already used for a different report: use a new key for new content', `idempotency-key ${key}`);
  }
  return { summary: toSummary(row), replayed: true };
}

function toSummary(row: ReportRow): ReportSummary {
  return {
    id: row.id,
    kind: row.kind as ReportKind,
    tool: { name: row.tool_name, version: row.tool_version },
    generatedAt: row.generated_at,
    receivedAt: new Date(Number(row.received_at)).toISOString(),
    submittedBy: row.submitted_by,
  };
}
