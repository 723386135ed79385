/**
 * The probe run: parse targets (bad ones become report entries, not aborts), expand them lazily, and probe the
 * endpoints with bounded concurrency, one shared rate limit and a total deadline. Endpoints the deadline leaves
 * untouched are counted per target as skipped. Closed ports of expanded targets (a range, or a host tried on every
 * well-known port) are counted, not listed, so a /16 sweep yields a readable report.
 */
import { NomineError, toNomineError } from '../core/errors.ts';
import type { Probe } from './probe.ts';
import type { ProbeCredentials } from './probe-credentials.ts';
import { probeEndpoint, systemLookup, type Lookup } from './probe-endpoint.ts';
import type { ProbeLimits } from './probe-limits.ts';
import { summarise, type EndpointReport, type ProbeReport } from './probe-report.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { endpointCount, endpointsOf, parseTarget, type EndpointSpec, type Target } from './targets.ts';

export interface ProbeRunOptions {
  targets: string[];
  /** Ports for targets that name none. */
  ports?: number[];
  probes: readonly Probe[];
  credentials: ProbeCredentials;
  limits: ProbeLimits;
  lookup?: Lookup;
  now?: () => number;
  tool: { name: string; version: string };
  /** Told of each finished endpoint (progress). */
  onEndpoint?: (report: EndpointReport) => void;
}

export async function runProbe(options: ProbeRunOptions): Promise<ProbeReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const invalidTargets: ProbeReport['invalidTargets'] = [];
  const targets: Target[] = [];
  let total = 0;
  for (const input of options.targets) {
    try {
      const target = parseTarget(input, { minCidrPrefix: options.limits.minCidrPrefix, ...(options.ports ? { ports: options.ports } : {}) });
      total += endpointCount(target);
      if (total > options.limits.maxEndpoints) {
        throw new NomineError('limit-exceeded', `the targets expand to more than ${options.limits.maxEndpoints} endpoints (limits.maxEndpoints); name fewer ports or smaller ranges`, `target ${input}`);
      }
      targets.push(target);
    } catch (error) {
      const failure = toNomineError(error, `target ${input}`);
      invalidTargets.push({ target: input, message: failure.message });
      if (failure.code === 'limit-exceeded' && total > options.limits.maxEndpoints) break;
    }
  }

  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(new NomineError('timeout', 'the run deadline passed', 'probe')), options.limits.deadlineMs);
  const limiter = createRateLimiter(options.limits.requestsPerSecond);
  const endpoints: EndpointReport[] = [];
  const hidden = { closed: 0 };
  const skipped = new Map<string, number>();
  const isExpanded = (target: Target) => endpointCount(target) > 1;

  const queue = (function* (): Generator<{ spec: EndpointSpec; expanded: boolean }> {
    for (const target of targets) {
      const expanded = isExpanded(target);
      for (const spec of endpointsOf(target)) yield { spec, expanded };
    }
  })();

  async function worker(): Promise<void> {
    for (;;) {
      const next = queue.next();
      if (next.done) return;
      const { spec, expanded } = next.value;
      if (controller.signal.aborted) {
        skipped.set(spec.input, (skipped.get(spec.input) ?? 0) + 1);
        continue;
      }
      const report = await probeEndpoint(spec, {
        probes: options.probes,
        credentials: options.credentials,
        limits: options.limits,
        limiter,
        lookup: options.lookup ?? systemLookup,
        signal: controller.signal,
        now,
      });
      options.onEndpoint?.(report);
      if (report.status === 'closed' && expanded) hidden.closed++;
      else endpoints.push(report);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.limits.concurrency) }, () => worker()));
  } finally {
    clearTimeout(deadline);
  }
  for (const [target, count] of skipped) {
    endpoints.push({ target, endpoint: `${count} endpoint${count === 1 ? '' : 's'}`, status: 'skipped', services: [], outcomes: [], problems: [{ probe: 'run', code: 'timeout', message: `not probed: the run deadline (${options.limits.deadlineMs} ms) passed first` }] });
  }
  const summary = summarise(endpoints);
  summary.closed += hidden.closed;
  summary.endpoints += hidden.closed;
  const skippedCount = [...skipped.values()].reduce((a, b) => a + b, 0);
  summary.skipped += skippedCount - skipped.size;
  summary.endpoints += skippedCount - skipped.size;
  return {
    tool: options.tool,
    startedAt: new Date(started).toISOString(),
    durationMs: now() - started,
    endpoints,
    invalidTargets,
    followUps: [],
    summary,
  };
}
