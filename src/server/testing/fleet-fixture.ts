/**
 * For tests of what the console reads: a small fleet written into the store as the agent routes store it (two
 * nodes, a web workload learned on both, a database enforcing in prevent mode, hosts, alerts over the last day,
 * event windows). The console's read and action routes are the subject here; agent delivery has its own tests.
 */
import { emptyAllowances, type Profile } from '../../profile/profile.ts';
import type { ServerStore } from '../server-store.ts';

const minute = 60_000;
const hour = 60 * minute;

export interface FleetFixture {
  nodeA: string;
  nodeB: string;
  web: Profile;
  db: Profile;
  /** Alert ids, newest first. */
  alertIds: string[];
}

function profile(id: string, workload: string, image: string, mode: Profile['mode'], phase: Profile['phase'], now: number): Profile {
  return {
    id,
    key: { imageDigest: `sha256:${id.padEnd(64, '0').slice(0, 64)}`, workload },
    image,
    mode,
    phase,
    learningStartedAt: now - 3 * hour,
    lastNewBehaviourAt: now - 2 * hour,
    ...(phase === 'enforcing' ? { enforcingSince: now - hour } : {}),
    selector: {},
    allow: emptyAllowances(),
    revision: 3,
  };
}

export async function seedFleet(db: ServerStore, now: number): Promise<FleetFixture> {
  const nodeA = 'agent-node-a';
  const nodeB = 'agent-node-b';
  for (const [id, name, lastSeen] of [
    [nodeA, 'node-a', now - 5_000],
    [nodeB, 'node-b', now - hour],
  ] as const) {
    await db
      .insertInto('server_agents')
      .values({ id, node_name: name, version: '0.1.0', token_hash: `hash-${id}`, join_token_id: 'join-1', enrolled_at: now - 5 * hour, last_seen_at: lastSeen, revoked_at: null, status: JSON.stringify({ sensor: 'ebpf' }) })
      .execute();
  }

  const web = profile('wl-web0000001', 'compose:shop/web', 'shop-web:1.4', 'alert', 'learning', now);
  const db_ = profile('wl-db00000001', 'k8s:prod/StatefulSet/db', 'postgres:16', 'prevent', 'enforcing', now);
  // What each node learned of the web workload: node-a saw nginx and the app, node-b only nginx but a cache write.
  const webOnA: Profile['allow'] = {
    ...emptyAllowances(),
    processes: [
      { exe: '/usr/sbin/nginx', sha256: ['aa'.repeat(32)], parents: ['/sbin/tini'], source: 'learned', firstSeen: now - 3 * hour },
      { exe: '/app/server', sha256: ['bb'.repeat(32)], parents: ['/sbin/tini'], source: 'learned', firstSeen: now - 2 * hour },
    ],
    egress: [{ address: '10.0.0.5', port: 5432, protocol: 'tcp', source: 'learned', firstSeen: now - 2 * hour }],
    listen: [{ port: 8080, protocol: 'tcp', source: 'learned', firstSeen: now - 3 * hour }],
    fileWrites: [{ pattern: '/var/log/nginx/*', source: 'learned', firstSeen: now - 3 * hour }],
    syscalls: ['accept4', 'read', 'write'],
    cpu: { histogram: [10, 4], bucketCores: 0.05, samples: 14, quantileCores: 0.1 },
  };
  const webOnB: Profile['allow'] = {
    ...emptyAllowances(),
    processes: [{ exe: '/usr/sbin/nginx', sha256: ['aa'.repeat(32)], parents: ['/sbin/tini'], source: 'learned', firstSeen: now - 150 * minute }],
    listen: [{ port: 8080, protocol: 'tcp', source: 'learned', firstSeen: now - 150 * minute }],
    fileWrites: [{ pattern: '/var/cache/nginx/**', source: 'learned', firstSeen: now - 100 * minute }],
    syscalls: ['read', 'write', 'openat'],
    cpu: { histogram: [6], bucketCores: 0.05, samples: 6, quantileCores: 0.05 },
  };
  const merged: Profile['allow'] = {
    processes: webOnA.processes,
    egress: webOnA.egress,
    listen: webOnA.listen,
    fileWrites: [...webOnA.fileWrites, ...webOnB.fileWrites],
    syscalls: ['accept4', 'openat', 'read', 'write'],
    cpu: { histogram: [16, 4], bucketCores: 0.05, samples: 20, quantileCores: 0.1 },
  };
  web.allow = merged;
  db_.allow = { ...emptyAllowances(), processes: [{ exe: '/usr/lib/postgresql/16/bin/postgres', sha256: ['cc'.repeat(32)], parents: [], source: 'image', firstSeen: now - 3 * hour }] };

  for (const [row, revision] of [
    [web, 4],
    [db_, 5],
  ] as const) {
    await db
      .insertInto('server_profiles')
      .values({
        id: row.id,
        workload: row.key.workload,
        image_digest: row.key.imageDigest,
        image: row.image ?? null,
        mode: row.mode,
        phase: row.phase,
        revision,
        document: JSON.stringify(row),
        mode_set_by: null,
        approved_at: null,
        approved_by: null,
        relearn_requested_at: null,
        created_at: now - 3 * hour,
        updated_at: now - hour,
      })
      .execute();
  }
  for (const [agent, allow] of [
    [nodeA, webOnA],
    [nodeB, webOnB],
  ] as const) {
    await db
      .insertInto('server_profile_contributions')
      .values({ profile_id: web.id, agent_id: agent, revision: 7, document: JSON.stringify({ ...web, allow }), received_at: now - 10 * minute })
      .execute();
  }
  await db.insertInto('server_profile_contributions').values({ profile_id: db_.id, agent_id: nodeA, revision: 2, document: JSON.stringify(db_), received_at: now - hour }).execute();

  const entity = (agent: string, id: string, name: string, kind: 'container' | 'host', extra: { image?: string; workload?: string; profile?: string; gone?: number } = {}) => ({
    agent_id: agent,
    entity_id: id,
    kind,
    name,
    image: extra.image ?? null,
    image_digest: null,
    workload: extra.workload ?? null,
    profile_id: extra.profile ?? null,
    document: JSON.stringify({ id, name, kind, labels: { app: name } }),
    first_seen_at: now - 3 * hour,
    last_seen_at: now - minute,
    gone_at: extra.gone ?? null,
  });
  await db
    .insertInto('server_entities')
    .values([
      entity(nodeA, 'c-web-1', 'web-1', 'container', { image: 'shop-web:1.4', workload: 'compose:shop/web', profile: web.id }),
      entity(nodeB, 'c-web-2', 'web-2', 'container', { image: 'shop-web:1.4', workload: 'compose:shop/web', profile: web.id }),
      entity(nodeA, 'c-db-0', 'db-0', 'container', { image: 'postgres:16', workload: 'k8s:prod/StatefulSet/db', profile: db_.id }),
      entity(nodeA, 'host', 'node-a', 'host'),
      entity(nodeB, 'host', 'node-b', 'host'),
      entity(nodeA, 'c-old', 'web-0', 'container', { image: 'shop-web:1.3', workload: 'compose:shop/web', gone: now - 2 * hour }),
    ])
    .execute();

  const alerts = [
    { id: 'alert-06', agent: nodeA, rule: 'miner-executable', severity: 'critical', entity: ['c-web-1', 'web-1'], workload: 'compose:shop/web', profile: web.id, at: now - 2 * minute, count: 3, taken: 'killed' },
    { id: 'alert-05', agent: nodeB, rule: 'mining-pool', severity: 'critical', entity: ['c-web-2', 'web-2'], workload: 'compose:shop/web', profile: web.id, at: now - 20 * minute, count: 1, taken: 'killed' },
    { id: 'alert-04', agent: nodeA, rule: 'process-not-allowed', severity: 'high', entity: ['c-db-0', 'db-0'], workload: 'k8s:prod/StatefulSet/db', profile: db_.id, at: now - 90 * minute, count: 12, taken: 'killed' },
    { id: 'alert-03', agent: nodeA, rule: 'egress-not-allowed', severity: 'medium', entity: ['c-web-1', 'web-1'], workload: 'compose:shop/web', profile: web.id, at: now - 5 * hour, count: 2, taken: 'none' },
    { id: 'alert-02', agent: nodeB, rule: 'cpu-above-envelope', severity: 'low', entity: ['host', 'node-b'], workload: 'host:node-b', profile: undefined, at: now - 20 * hour, count: 1, taken: 'none' },
    { id: 'alert-01', agent: nodeA, rule: 'file-write-not-allowed', severity: 'medium', entity: ['c-web-1', 'web-1'], workload: 'compose:shop/web', profile: web.id, at: now - 30 * hour, count: 1, taken: 'none' },
  ] as const;
  for (const alert of alerts) {
    const message =
      alert.id === 'alert-03'
        ? 'web-1 connected to 203.0.113.9:443, which 100%_of its profile does not allow'
        : `${alert.entity[1]} raised ${alert.rule}; the process was ${alert.taken === 'killed' ? 'killed' : 'left running'}`;
    const document = {
      id: alert.id,
      rule: alert.rule,
      severity: alert.severity,
      message,
      seen: alert.rule === 'miner-executable' ? 'exec /tmp/xmrig (sha256 ab12…) by /bin/sh, pid 4242' : `${alert.rule} event`,
      allowed: '2 executables: /usr/sbin/nginx, /app/server',
      action: { taken: alert.taken, reason: alert.taken === 'killed' ? 'mode prevent' : 'mode alert' },
    };
    await db
      .insertInto('server_alerts')
      .values({
        id: alert.id,
        agent_id: alert.agent,
        dedupe_key: `${alert.rule}|${alert.workload}`,
        rule: alert.rule,
        severity: alert.severity,
        message,
        entity_id: alert.entity[0],
        entity_name: alert.entity[1],
        workload: alert.workload,
        profile_id: alert.profile ?? null,
        image: null,
        mode: 'prevent',
        action_taken: alert.taken,
        first_at: alert.at - minute,
        last_at: alert.at,
        count: alert.count,
        received_at: alert.at + 1_000,
        document: JSON.stringify(document),
      })
      .execute();
  }
  await db
    .insertInto('server_event_summaries')
    .values([
      { agent_id: nodeA, entity_id: 'c-web-1', window_start: now - 2 * minute, window_end: now - minute, counts: JSON.stringify({ exec: 3, connect: 40 }) },
      { agent_id: nodeA, entity_id: 'c-web-1', window_start: now - 3 * minute, window_end: now - 2 * minute, counts: JSON.stringify({ exec: 1, connect: 12 }) },
    ])
    .execute();
  return { nodeA, nodeB, web, db: db_, alertIds: alerts.map((alert) => alert.id) };
}
