/** Prometheus metrics of one server instance, on its own registry so several instances (tests) never collide. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  requestSeconds: Histogram<'method' | 'route'>;
  loginFailures: Counter;
  reportsIngested: Counter<'kind' | 'replayed'>;
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nomine_server_' });
  return {
    registry,
    requests: new Counter({ name: 'nomine_server_http_requests_total', help: 'HTTP requests answered, by route template and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    requestSeconds: new Histogram({ name: 'nomine_server_http_request_duration_seconds', help: 'HTTP request latency by route template', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    loginFailures: new Counter({ name: 'nomine_server_login_failures_total', help: 'Logins refused for a wrong username or password', registers: [registry] }),
    reportsIngested: new Counter({ name: 'nomine_server_reports_ingested_total', help: 'Reports received, by kind and whether they replayed an earlier delivery', labelNames: ['kind', 'replayed'], registers: [registry] }),
  };
}
