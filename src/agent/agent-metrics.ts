/**
 * Prometheus metrics of a running agent (`nomine agent run --metrics HOST:PORT`): events by type, queue depth and
 * drops by kind, events lost in the kernel, attribution outcomes, profiles by phase, alerts and actions. Read from
 * the same status snapshot `agent status` shows, at scrape time. The endpoint needs a bearer token: nothing nomine
 * serves is open.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { NomineError } from '../core/errors.ts';
import type { AgentStatus } from './agent-status.ts';

export interface MetricsEndpoint {
  address: { host: string; port: number };
  close(): Promise<void>;
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge<string> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** A registry whose gauges are filled from `snapshot()` on every scrape. */
export function agentMetricsRegistry(snapshot: () => AgentStatus): Registry {
  const registry = new Registry();
  const events = gauge(registry, 'nomine_agent_events_processed', 'Events processed end to end, by type (monotonic).', ['type']);
  const queueDepth = gauge(registry, 'nomine_agent_queue_depth', 'Events waiting between the sensor and processing.');
  const queueCapacity = gauge(registry, 'nomine_agent_queue_capacity', 'Capacity of the event queue.');
  const dropped = gauge(registry, 'nomine_agent_events_dropped', 'Events dropped because the queue was full, by type (monotonic).', ['type']);
  const lost = gauge(registry, 'nomine_agent_events_lost_in_kernel', 'Events the kernel side reported lost (perf buffer full; monotonic).');
  const restarts = gauge(registry, 'nomine_agent_sensor_restarts', 'Times the sensor (bpftrace) was restarted.');
  const attribution = gauge(registry, 'nomine_agent_attribution', 'Attribution outcomes (monotonic counts, and events waiting now).', ['outcome']);
  const entities = gauge(registry, 'nomine_agent_entities', 'Entities (containers and the host) running now.');
  const profiles = gauge(registry, 'nomine_agent_profiles', 'Profiles in use, by phase.', ['phase']);
  const deviations = gauge(registry, 'nomine_agent_deviations', 'Deviations judged (monotonic).');
  const actions = gauge(registry, 'nomine_agent_actions', 'Enforcement actions, by outcome (monotonic).', ['taken']);
  const collect = () => {
    const status = snapshot();
    events.reset();
    for (const [type, count] of Object.entries(status.events.byType)) events.set({ type }, count);
    queueDepth.set(status.queue.depth);
    queueCapacity.set(status.queue.capacity);
    dropped.reset();
    for (const [type, count] of Object.entries(status.queue.droppedByKind)) dropped.set({ type }, count);
    lost.set(status.sensor.lostEvents);
    restarts.set(status.sensor.restarts);
    attribution.reset();
    for (const [outcome, count] of Object.entries(status.attribution)) attribution.set({ outcome }, count);
    entities.set(status.entities);
    profiles.reset();
    if (status.profiles) {
      profiles.set({ phase: 'learning' }, status.profiles.learning);
      profiles.set({ phase: 'enforcing' }, status.profiles.enforcing);
    }
    const alerts = (status.alerts ?? {}) as { deviations?: number; actions?: Record<string, number> };
    deviations.set(alerts.deviations ?? 0);
    actions.reset();
    for (const [taken, count] of Object.entries(alerts.actions ?? {})) actions.set({ taken }, count);
  };
  const metrics = registry.metrics.bind(registry);
  registry.metrics = async () => {
    collect();
    return metrics();
  };
  return registry;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function serveAgentMetrics(registry: Registry, listen: { host: string; port: number }, token: string): Promise<MetricsEndpoint> {
  if (token.length < 16) throw new NomineError('invalid-input', 'the metrics token must be at least 16 characters', 'agent metrics');
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    if (!tokenMatches(request.headers.authorization, token)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="nomine agent metrics"' }).end('a bearer token is required\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new NomineError('unreachable', `cannot listen for metrics on ${listen.host}:${listen.port}: ${error.message}`, 'agent metrics', { cause: error })));
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address() as { address: string; port: number };
  return { address: { host: address.address, port: address.port }, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
