/**
 * Ingested reports: the envelope `nomine scan|audit|probe --server` sends around the tool's JSON report. The envelope
 * is checked strictly; the report itself is any JSON object within the size and nesting bounds.
 */
import { z } from 'zod';

export const reportKinds = ['scan', 'audit', 'probe'] as const;
export type ReportKind = (typeof reportKinds)[number];

/** Reports one list request returns at most. */
export const maxReportListLimit = 500;

/** Nesting deeper than this is refused: no tool report comes close, and deep documents are a stack hazard. */
export const maxReportDepth = 64;

/** Depth of a parsed JSON value, walked without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > maxReportDepth) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export const reportEnvelope = z.strictObject({
  kind: z.enum(reportKinds),
  tool: z.strictObject({
    name: z.string().min(1).max(64),
    version: z.string().min(1).max(64).regex(/^\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/, 'expected a semantic version such as 0.1.0'),
  }),
  generatedAt: z.iso.datetime({ offset: true }),
  report: z
    .record(z.string(), z.unknown())
    .refine((report) => jsonDepth(report) <= maxReportDepth, { message: `the report nests deeper than ${maxReportDepth} levels` }),
});
export type ReportEnvelope = z.infer<typeof reportEnvelope>;

export const reportKindParams = z.strictObject({ kind: z.enum(reportKinds) });

export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'use printable ASCII without spaces')
    .describe('a client-chosen key: sending the same report again with it returns the first answer and stores nothing new'),
});

export const reportSummary = z.object({
  id: z.string(),
  kind: z.enum(reportKinds),
  tool: z.object({ name: z.string(), version: z.string() }),
  generatedAt: z.string(),
  receivedAt: z.string(),
  submittedBy: z.string(),
});
export type ReportSummary = z.infer<typeof reportSummary>;

export const reportDetail = reportSummary.extend({ report: z.record(z.string(), z.unknown()) });

export const reportListQuery = z.strictObject({
  kind: z.enum(reportKinds).optional(),
  limit: z.coerce.number().int().min(1).max(maxReportListLimit).default(50),
});

export const reportListResponse = z.object({ reports: z.array(reportSummary) });
