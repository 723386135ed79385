/**
 * The load of `npm run bench:server`, over real HTTP on loopback: a console's admin (login, a join token, a viewer
 * account), simulated agents that enrol and then send batches of alerts and event summaries back to back, a viewer
 * polling the UI's queries, and a plain request loop for the HTTP baseline. Every answer is checked: a batch the
 * server did not take counts as an error, never as throughput.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { alertRules } from '../src/alerts/alert.ts';

export interface Http {
  base: string;
  dispatcher: Agent;
}

export interface Session {
  cookie: string;
  csrf: string;
}

interface Answer {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

export async function call(http: Http, method: 'GET' | 'POST', path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await request(`${http.base}${path}`, {
    method,
    dispatcher: http.dispatcher,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, json: text && String(response.headers['content-type']).startsWith('application/json') ? JSON.parse(text) : undefined, headers: response.headers };
}

function expect(answer: Answer, status: number, what: string): Answer {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer;
}

export async function login(http: Http, username: string, password: string): Promise<Session> {
  const answer = expect(await call(http, 'POST', '/api/login', { body: { username, password } }), 200, `login ${username}`);
  const setCookie = answer.headers['set-cookie'];
  return { cookie: String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!, csrf: answer.json.csrfToken as string };
}

const sessionHeaders = (session: Session) => ({ cookie: session.cookie, 'x-csrf-token': session.csrf });

/** As the admin: a join token for the agents and a viewer account for the UI queries. */
export async function prepareConsole(http: Http, admin: Session, viewerPassword: string): Promise<{ joinToken: string }> {
  const token = expect(await call(http, 'POST', '/api/join-tokens', { body: { name: 'bench', ttlSeconds: 3600 }, headers: sessionHeaders(admin) }), 201, 'join token');
  expect(await call(http, 'POST', '/api/users', { body: { username: 'viewer', password: viewerPassword, role: 'viewer' }, headers: sessionHeaders(admin) }), 201, 'viewer account');
  return { joinToken: token.json.token as string };
}

export interface SimulatedAgent {
  index: number;
  credential: string;
  /** Batches sent so far: the next batch's number, so batch ids never repeat across phases. */
  sent: number;
  /** The node's open alert aggregates (newest last): later batches send them again with a grown count. */
  aggregates: Aggregate[];
}

interface Aggregate {
  id: string;
  serial: number;
  count: number;
  firstAt: number;
}

/** Open aggregates one simulated node keeps re-sending; older ones are done and never sent again. */
const openAggregates = 2_000;

export async function enrolAgents(http: Http, joinToken: string, count: number): Promise<SimulatedAgent[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const answer = expect(await call(http, 'POST', '/api/agents/enrol', { body: { joinToken, nodeName: `bench-node-${index}`, version: 'bench' } }), 201, `enrol node ${index}`);
      return { index, credential: answer.json.credential as string, sent: 0, aggregates: [] };
    }),
  );
}

export interface BatchShape {
  alerts: number;
  /**
   * Of a batch's alerts, the share that are new aggregates; the rest are aggregates the node sent before, with a
   * larger count (what an agent's aggregator sends while an alert keeps firing). New ones add rows, the others
   * update them.
   */
  newAlertShare: number;
  summaries: number;
  /** Containers per node the alerts and summaries are spread over. */
  entities: number;
}

/** The aggregates a batch carries: new ones by `newAlertShare`, the rest re-sent (distinct) with a grown count. */
function pickAggregates(agent: SimulatedAgent, shape: BatchShape, now: number): Aggregate[] {
  const fresh = agent.aggregates.length === 0 ? shape.alerts : Math.round(shape.alerts * shape.newAlertShare);
  const resent = new Set<Aggregate>();
  const again = Math.min(shape.alerts - fresh, agent.aggregates.length);
  while (resent.size < again) resent.add(agent.aggregates[Math.floor(Math.random() * agent.aggregates.length)]!);
  for (const aggregate of resent) aggregate.count += 1;
  const created = Array.from({ length: shape.alerts - resent.size }, (): Aggregate => ({ id: randomUUID(), serial: Math.floor(Math.random() * 1e9), count: 1, firstAt: now }));
  agent.aggregates.push(...created);
  if (agent.aggregates.length > openAggregates) agent.aggregates.splice(0, agent.aggregates.length - openAggregates);
  return [...resent, ...created];
}

/** One batch as an agent sends it: alert aggregates (new and grown) and event summaries for its containers. */
export function buildBatch(agent: SimulatedAgent, sequence: number, shape: BatchShape, now: number): { alerts: Record<string, unknown>[]; eventSummaries: Record<string, unknown>[] } & Record<string, unknown> {
  const node = `bench-node-${agent.index}`;
  const alerts = pickAggregates(agent, shape, now).map((aggregate) => {
    const i = aggregate.serial;
    const entity = i % shape.entities;
    const rule = alertRules[i % alertRules.length]!;
    return {
      id: aggregate.id,
      dedupeKey: `${node}/ctr-${entity}/${rule}/${i}`,
      rule,
      severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
      message: `/usr/bin/xmrig-${i} ran in shop/web-${entity}, which its profile does not allow`,
      entity: { id: `ctr-${entity}`, name: `web-${entity}` },
      workload: `shop/Deployment/web-${entity % 10}`,
      profileId: `wl-bench-${entity % 10}`,
      image: `registry.example/shop/web:${entity % 10}`,
      seen: `exec /usr/bin/xmrig-${i}`,
      allowed: 'exec /app/server, /bin/sh',
      mode: 'alert',
      phase: 'enforcing',
      action: { taken: 'none', reason: 'mode alert' },
      firstAt: aggregate.firstAt,
      lastAt: now,
      count: aggregate.count,
    };
  });
  const eventSummaries = Array.from({ length: shape.summaries }, (_, i) => ({
    entityId: `ctr-${i % shape.entities}`,
    // A new window per batch and container: each summary is a row of its own.
    windowStart: sequence * 1_000_000 + i,
    windowEnd: sequence * 1_000_000 + i + 999,
    counts: { exec: 3 + (i % 7), connect: 20 + (i % 13), 'file-write': i % 5 },
  }));
  return { batchId: `${node}-batch-${sequence}`, sentAt: now, alerts, eventSummaries };
}

export interface LoadTotals {
  batches: number;
  alerts: number;
  summaries: number;
  errors: number;
  firstError?: string;
  batchLatenciesMs: number[];
  /** Every alert aggregate the server acknowledged, with the highest count it acknowledged for it. */
  acknowledged: Map<string, number>;
}

/**
 * Each agent sends its next batch when the last one was answered, until `deadline` (performance.now()); with
 * `intervalMs`, no sooner than that after its previous one started (agents start spread over one interval), which
 * paces the whole fleet at a chosen rate as real agents on a timer do.
 */
export async function runAgents(http: Http, agents: readonly SimulatedAgent[], shape: BatchShape, deadline: number, intervalMs = 0): Promise<LoadTotals> {
  const totals: LoadTotals = { batches: 0, alerts: 0, summaries: 0, errors: 0, batchLatenciesMs: [], acknowledged: new Map() };
  await Promise.all(
    agents.map(async (agent, index) => {
      const headers = { authorization: `Bearer ${agent.credential}` };
      let next = performance.now() + (intervalMs * index) / agents.length;
      while (performance.now() < deadline) {
        if (intervalMs > 0) {
          if (next >= deadline) break;
          const wait = next - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (performance.now() >= deadline) break;
          next += intervalMs;
        }
        const body = buildBatch(agent, (agent.sent += 1), shape, Date.now());
        const started = performance.now();
        try {
          const answer = await call(http, 'POST', '/api/agents/batches', { body, headers });
          if (answer.status !== 200 || answer.json.replayed) throw new Error(`batch: ${answer.status} ${JSON.stringify(answer.json)}`);
          totals.batches += 1;
          totals.alerts += answer.json.accepted.alerts as number;
          totals.summaries += answer.json.accepted.eventSummaries as number;
          totals.batchLatenciesMs.push(performance.now() - started);
          for (const alert of body.alerts as { id: string; count: number }[]) totals.acknowledged.set(alert.id, Math.max(alert.count, totals.acknowledged.get(alert.id) ?? 0));
        } catch (error) {
          totals.errors += 1;
          totals.firstError ??= (error as Error).message.slice(0, 300);
        }
      }
    }),
  );
  return totals;
}

export interface ViewerTotals {
  latenciesMs: Record<string, number[]>;
  errors: number;
  firstError?: string;
}

/** A logged-in viewer loading the UI's pages in turn, with a short pause between, until `deadline`. */
export async function runViewer(http: Http, viewer: Session, paths: readonly string[], deadline: number, pauseMs: number): Promise<ViewerTotals> {
  const totals: ViewerTotals = { latenciesMs: Object.fromEntries(paths.map((path) => [path, []])), errors: 0 };
  for (let i = 0; performance.now() < deadline; i += 1) {
    const path = paths[i % paths.length]!;
    const started = performance.now();
    try {
      const answer = await call(http, 'GET', path, { headers: { cookie: viewer.cookie } });
      if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.json)}`);
      totals.latenciesMs[path]!.push(performance.now() - started);
    } catch (error) {
      totals.errors += 1;
      totals.firstError ??= (error as Error).message.slice(0, 300);
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return totals;
}

/** The HTTP baseline: `clients` loops of GET `path` until `deadline`; answers per second. */
export async function runPlainRequests(http: Http, path: string, clients: number, deadline: number): Promise<{ requests: number; errors: number }> {
  const totals = { requests: 0, errors: 0 };
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const answer = await call(http, 'GET', path).catch(() => undefined);
        if (answer?.status === 200) totals.requests += 1;
        else totals.errors += 1;
      }
    }),
  );
  return totals;
}
