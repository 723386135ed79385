import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { probeOutcome } from './probe-outcome.ts';
import type { EndpointReport, ProbeReport } from './probe-report.ts';

function report(endpoints: Partial<EndpointReport>[], invalid = 0): ProbeReport {
  return {
    tool: { name: 'nomine', version: 't' },
    startedAt: '',
    durationMs: 0,
    endpoints: endpoints.map((e) => ({ target: 't', endpoint: 'h:1', status: 'open', services: [], outcomes: [], problems: [], ...e })),
    invalidTargets: Array.from({ length: invalid }, () => ({ target: 'x', message: 'bad' })),
    followUps: [],
    summary: { endpoints: 0, open: 0, closed: 0, error: 0, skipped: 0, fail: 0, pass: 0 },
  };
}

describe('probeOutcome', () => {
  it('is findings when a failing check reaches --fail-on, even beside errors', () => {
    const failing = { outcomes: [{ checkId: 'etcd.unauthenticated' as const, status: 'fail' as const, evidence: [], detail: '' }] };
    assert.equal(probeOutcome(report([failing, { status: 'error' }]), 'high'), 'findings');
  });

  it('ignores failures below --fail-on, and treats closed ports as answers but hangs and bad targets as errors', () => {
    const low = { outcomes: [{ checkId: 'tls.self-signed' as const, status: 'fail' as const, evidence: [], detail: '' }] };
    assert.equal(probeOutcome(report([low, { status: 'closed' }]), 'medium'), 'clean');
    assert.equal(probeOutcome(report([{ status: 'error' }]), 'medium'), 'error');
    assert.equal(probeOutcome(report([], 1), 'medium'), 'error');
  });
});
