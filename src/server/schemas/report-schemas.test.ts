import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonDepth, maxReportDepth, reportEnvelope } from './report-schemas.ts';

const valid = { kind: 'audit', tool: { name: 'nomine', version: '0.1.0' }, generatedAt: '2026-01-01T10:00:00.000Z', report: { results: [] } };

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i += 1) value = { child: value };
  return value;
}

describe('report envelope', () => {
  it('accepts a tool report in its envelope', () => {
    assert.equal(reportEnvelope.safeParse(valid).success, true);
  });

  for (const [name, body, field] of [
    ['an unknown kind', { ...valid, kind: 'exploit' }, 'kind'],
    ['a missing generatedAt', { ...valid, generatedAt: undefined }, 'generatedAt'],
    ['a date that is not ISO 8601', { ...valid, generatedAt: 'yesterday' }, 'generatedAt'],
    ['a version that is not semantic', { ...valid, tool: { name: 'nomine', version: 'latest' } }, 'tool.version'],
    ['a report that is an array', { ...valid, report: [1, 2] }, 'report'],
    ['a report that is a string', { ...valid, report: 'text' }, 'report'],
    ['an extra envelope field', { ...valid, admin: true }, ''],
    ['an extra tool field', { ...valid, tool: { ...valid.tool, x: 1 } }, 'tool'],
    ['a huge tool name', { ...valid, tool: { name: 'n'.repeat(65), version: '1.0.0' } }, 'tool.name'],
  ] as const) {
    it(`refuses ${name}, naming the field`, () => {
      const result = reportEnvelope.safeParse(body);
      assert.equal(result.success, false);
      assert.ok(result.error!.issues.some((issue) => issue.path.join('.') === field), JSON.stringify(result.error!.issues));
    });
  }

  it('refuses reports nested deeper than the bound, and measures depth without recursion', () => {
    assert.equal(reportEnvelope.safeParse({ ...valid, report: nested(maxReportDepth) }).success, true);
    assert.equal(reportEnvelope.safeParse({ ...valid, report: nested(maxReportDepth + 1) }).success, false);
    assert.ok(jsonDepth(nested(100_000)) > maxReportDepth);
  });
});
