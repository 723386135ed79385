import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reportViewLimits, toReportView } from './report-view.ts';

const fixture = (kind: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/reports/${kind}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const summary = (kind: 'scan' | 'audit' | 'probe') => ({ id: 'r-1', kind, tool: { name: 'nomine', version: '0.1.0' }, generatedAt: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:01.000Z', submittedBy: 'token:t' });

describe('report views', () => {
  it('reads what `nomine scan --json` printed without a problem', () => {
    const view = toReportView(summary('scan'), fixture('scan'));
    assert.deepEqual(view.problems, []);
    assert.equal(view.scan!.files[0]!.evidence.length, 7);
  });

  it('groups audit results by check, worst first, and counts them', () => {
    const view = toReportView(summary('audit'), fixture('audit'));
    assert.deepEqual(view.problems, []);
    const statuses = view.checks!.checks.map((check) => check.status);
    assert.deepEqual([...new Set(statuses)], ['fail', 'warn', 'pass', 'not-applicable']);
    const rootUser = view.checks!.checks.find((check) => check.checkId === 'docker.image.root-user')!;
    assert.deepEqual(rootUser.counts, { fail: 3 });
  });

  it('shows a waived failure as waived, with the reason, and not as failing', () => {
    const result = { checkId: 'c.one', title: 'One', severity: 'high', status: 'fail', entity: { kind: 'container', name: 'web' }, evidence: [], references: [], waived: { reason: 'accepted until the migration' } };
    const view = toReportView(summary('audit'), { results: [result] });
    assert.equal(view.checks!.checks[0]!.status, 'waived');
    assert.equal(view.checks!.checks[0]!.results[0]!.waived, 'accepted until the migration');
  });

  it('fills a probe check’s title and fix from the check table when the outcome lacks them', () => {
    const view = toReportView(summary('probe'), { endpoints: [{ endpoint: '10.0.0.1:2375', status: 'open', outcomes: [{ checkId: 'docker.api.unauthenticated', status: 'fail', evidence: [] }] }] });
    const check = view.checks!.checks[0]!;
    assert.equal(check.severity, 'critical');
    assert.match(check.title, /Docker Engine API/);
    assert.ok(check.remediation);
  });

  for (const [name, kind, document, problem] of [
    ['a document that is not an object', 'scan', [1, 2, 3], /not a JSON object/],
    ['null', 'audit', null, /not a JSON object/],
    ['findings that are not a list', 'scan', { findings: 'lots', images: [] }, /flagged files is not a list/],
    ['findings of the wrong types', 'scan', { findings: [{ path: 5 }, null, 'x'], images: [] }, /3 malformed flagged files skipped/],
    ['an audit without results', 'audit', { summary: {} }, /nomine audit --json/],
    ['a probe whose endpoints are numbers', 'probe', { endpoints: [1, 2] }, /2 malformed endpoints skipped/],
  ] as const) {
    it(`shows ${name} with a problem instead of failing`, () => {
      const view = toReportView(summary(kind), document);
      assert.ok(view.problems.some((text) => problem.test(text)), view.problems.join('; '));
    });
  }

  it('reads evidence that is not a list as no evidence, keeping the result', () => {
    const view = toReportView(summary('audit'), { results: [{ checkId: 'c', status: 'fail', severity: 'low', evidence: { x: 1 } }] });
    assert.deepEqual(view.checks!.checks[0]!.results[0]!.evidence, []);
  });

  it('cuts oversized lists and strings to its bounds and says so', () => {
    const finding = { image: 'i', path: `/${'p'.repeat(10_000)}`, layer: 'l', sha256: 's', verdict: 'malicious', severity: 'critical', evidence: Array.from({ length: 500 }, () => ({ summary: 'x' })) };
    const view = toReportView(summary('scan'), { findings: Array.from({ length: reportViewLimits.files + 10 }, () => finding), images: [] });
    assert.equal(view.scan!.files.length, reportViewLimits.files);
    assert.equal(view.scan!.files[0]!.path.length, 4_096);
    assert.equal(view.scan!.files[0]!.evidence.length, reportViewLimits.evidencePerItem);
    assert.ok(view.problems.some((text) => /the first 5000 are shown/.test(text)));
  });

  it('grades an unknown severity as medium rather than dropping the finding', () => {
    const view = toReportView(summary('scan'), { findings: [{ image: 'i', path: '/x', verdict: 'suspicious', severity: 'apocalyptic', evidence: [] }] });
    assert.equal(view.scan!.files[0]!.severity, 'medium');
  });
});
