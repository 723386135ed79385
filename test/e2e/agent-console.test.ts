/**
 * Agents and the console as a user runs them: a real `nomine server` on 127.0.0.1 (SQLite), two `nomine agent run`
 * processes enrolled with one join token, each fed Falco JSON lines by the test (the host's own processes: the
 * lines name this test's pid, which lives on the host). Agent A raises a steady stream of mining-pool alerts; the
 * console is SIGKILLed in the middle of it and started again on the same store and port. Every alert A raised
 * (its --alerts file) must be in the console exactly once with its final count, and the sum of counts must be the
 * number of connects A was fed: nothing lost, nothing counted twice. Agent B learns a port A never saw; the
 * console merges both nodes' host profile and A's sync brings B's port into A's own store (`nomine profile show`).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Alert } from '../../src/alerts/alert.ts';
import { profileIdFor } from '../../src/profile/workload-key.ts';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { cliEntry, describeRun, repositoryRoot, runCli, tempHome } from '../helpers/run-cli.ts';

const password = 'correct horse battery staple';
const hostProfileId = profileIdFor({ imageDigest: 'image:none', workload: 'host' });

const built = spawnSync(process.execPath, [cliEntry, 'agent', 'enrol', '--help'], { cwd: repositoryRoot, encoding: 'utf8' }).stdout?.includes('--join-token-file');
const skip = built ? false : 'build first (npm run build): `nomine agent enrol` is not in dist/';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface ConsoleProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<NodeJS.Signals | number | null>;
}

/** `nomine server` on a fixed port (a restart must come back where the agents look), with the admin from the environment. */
function startConsole(home: string, port: number): Promise<ConsoleProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) env[key] = value;
  const child = spawn(process.execPath, [cliEntry, 'server', '--listen', `127.0.0.1:${port}`], { cwd: repositoryRoot, env: { ...env, NOMINE_HOME: home, NOMINE_ADMIN_PASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the console printed no URL in time:\n${output}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (/listening on http/.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exited });
      }
    });
    void exited.then((end) => {
      clearTimeout(timer);
      reject(new Error(`the console exited (${end}):\n${output}`));
    });
  });
}

async function api(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

/** A Falco alert naming a process of the host (`container.id: host`) with this test's pid, which exists. */
function falcoLine(fields: Record<string, unknown>): string {
  return JSON.stringify({ rule: 'e2e', priority: 'Warning', time: new Date().toISOString(), source: 'syscall', output: 'e2e', output_fields: { 'container.id': 'host', 'proc.pid': process.pid, 'proc.exepath': '/usr/local/bin/e2e-miner', 'proc.name': 'e2e-miner', ...fields } });
}

function connectLine(index: number): string {
  return falcoLine({ 'evt.type': 'connect', 'fd.l4proto': 'tcp', 'fd.typechar': '4', 'fd.type': 'ipv4', 'fd.rip': `198.51.100.${(index % 60) + 1}`, 'fd.rport': 3333 });
}

function listenLine(port: number): string {
  return falcoLine({ 'evt.type': 'listen', 'fd.name': `0.0.0.0:${port}`, 'fd.typechar': '4', 'proc.exepath': '/usr/sbin/e2e-daemon' });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface AlertRow {
  id: string;
  agent_id: string;
  dedupe_key: string;
  count: number;
}

function alertRows(serverHome: string, agentId: string): AlertRow[] {
  const db = new Database(join(serverHome, 'nomine.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select id, agent_id, dedupe_key, count from server_alerts where agent_id = ? order by id').all(agentId) as AlertRow[];
  } finally {
    db.close();
  }
}

describe('agents and the console (e2e)', { skip, timeout: 300_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('delivers every alert exactly once across a console crash, and brings a profile merged from two nodes back to each', async () => {
    const serverHome = await tempHome('nomine-e2e-console-');
    const homeA = await tempHome('nomine-e2e-node-a-');
    const homeB = await tempHome('nomine-e2e-node-b-');
    for (const home of [serverHome, homeA, homeB]) cleanups.push(() => rm(home, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let server = await startConsole(serverHome, port);
    cleanups.push(async () => server.child.kill('SIGKILL'));

    // An admin creates a join token for two nodes.
    const login = await api(`${url}/api/login`, { method: 'POST', body: { username: 'admin', password } });
    assert.equal(login.status, 200);
    const session = { cookie: String(login.headers.get('set-cookie')).split(';')[0]!, 'x-csrf-token': login.json.csrfToken as string };
    const created = await api(`${url}/api/join-tokens`, { method: 'POST', body: { name: 'e2e nodes', ttlSeconds: 600, maxUses: 2 }, headers: session });
    assert.equal(created.status, 201);
    const tokenFile = join(serverHome, 'join-token');
    await writeFile(tokenFile, `${created.json.token}\n`, { mode: 0o600 });

    // Both nodes enrol; a third enrolment with the same token is refused (it allows two).
    for (const [home, name] of [[homeA, 'node-a'], [homeB, 'node-b']] as const) {
      const enrolled = await runCli(['agent', 'enrol', '--server', url, '--join-token-file', tokenFile, '--node-name', name], { home });
      assert.equal(enrolled.code, 0, describeRun(enrolled));
      assert.match(enrolled.stdout, /enrolled with .* as agent [0-9a-f-]{36} \(node node-[ab]\)/);
    }
    assert.equal((await stat(join(homeA, 'console.json'))).mode & 0o777, 0o600);
    const again = await runCli(['agent', 'enrol', '--server', url, '--join-token-file', tokenFile, '--node-name', 'node-a'], { home: homeA });
    assert.match(again.stdout, /already enrolled .* nothing to do/, describeRun(again));
    const elsewhere = await runCli(['agent', 'enrol', '--server', 'http://127.0.0.1:1', '--join-token-file', tokenFile], { home: homeA });
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /pass --force/);
    const homeC = await tempHome('nomine-e2e-node-c-');
    cleanups.push(() => rm(homeC, { recursive: true, force: true }));
    const third = await runCli(['agent', 'enrol', '--server', url, '--join-token-file', tokenFile], { home: homeC });
    assert.equal(third.code, 2);
    assert.match(third.stderr, /used for all 2 enrolments/);
    const agents = (await api(`${url}/api/agents`, { headers: session })).json.agents as Array<{ id: string; nodeName: string }>;
    const agentA = agents.find((agent) => agent.nodeName === 'node-a')!.id;

    // Node A runs, fed by a growing Falco file: first a listen it learns, then the stream of pool connects.
    const inputA = join(homeA, 'falco.jsonl');
    const alertsA = join(homeA, 'alerts.jsonl');
    await writeFile(inputA, `${listenLine(7001)}\n`);
    const runArgs = (input: string, alerts: string) => ['run', '--sensor', 'falco', '--input', input, '--follow', '--alerts', alerts, '--docker-socket', join(serverHome, 'no-docker.sock'), '--cpu-interval', '0', '--console-interval', '1s'];
    const nodeA: AgentProcess = startAgent(runArgs(inputA, alertsA), homeA);
    cleanups.push(() => nodeA.stop());
    await nodeA.waitForLog(/sensor falco started/);

    let written = 0;
    const feed = async (count: number) => {
      const lines = Array.from({ length: count }, () => connectLine(written++));
      await appendFile(inputA, `${lines.join('\n')}\n`);
    };
    // Within the alert rate limit's burst, then a steady few a second; past 60 the destinations repeat, so counts grow.
    await feed(30);
    const stream = async (seconds: number) => {
      for (let tick = 0; tick < seconds * 2; tick++) {
        await feed(2);
        await sleep(500);
      }
    };
    await stream(3);
    await until('the console to receive alerts', () => (alertRows(serverHome, agentA).length >= 20 ? true : undefined));

    // The console dies in the middle of the stream; alerts keep coming, and wait in the agent's outbox.
    server.child.kill('SIGKILL');
    assert.equal(await server.exited, 'SIGKILL');
    const beforeCrash = alertRows(serverHome, agentA).length;
    await stream(4);
    const raisedWhileDown = (await nodeA.alerts(alertsA)).length;
    assert.ok(raisedWhileDown > beforeCrash, `alerts raised while the console was down (${raisedWhileDown} raised, ${beforeCrash} delivered before)`);
    server = await startConsole(serverHome, port);
    await stream(3);
    await nodeA.waitForLog(/console: .* reachable again/);

    // Node B learns a port node A never saw; the console merges it into the fleet's host profile, and A's sync
    // brings it into A's own store.
    const inputB = join(homeB, 'falco.jsonl');
    await writeFile(inputB, `${listenLine(7002)}\n`);
    const nodeB = startAgent(runArgs(inputB, join(homeB, 'alerts.jsonl')), homeB);
    cleanups.push(() => nodeB.stop());
    const merged = await until('node B’s port in node A’s profile', async () => {
      const shown = await runCli(['profile', 'show', hostProfileId, '--json'], { home: homeA });
      if (shown.code !== 0) return undefined;
      const profile = JSON.parse(shown.stdout).profile as { allow: { listen: Array<{ port: number }> } };
      const ports = profile.allow.listen.map((entry) => entry.port).sort();
      return ports.includes(7002) ? { ports, stdout: shown.stdout } : undefined;
    });
    assert.deepEqual(merged.ports, [7001, 7002]);
    assert.match(merged.stdout, /from the console \(fleet revision \d+\)/);
    const shownB = await until('node A’s port in node B’s profile', async () => {
      const shown = await runCli(['profile', 'show', hostProfileId, '--json'], { home: homeB });
      return shown.code === 0 && shown.stdout.includes('"port": 7001') ? shown : undefined;
    });
    assert.equal(shownB.code, 0);

    // A stops as an init system stops it: its last updates (higher counts) go out before it exits.
    assert.equal(await nodeA.stop(), 0, nodeA.log());
    const raised = await nodeA.alerts(alertsA);
    const rows = alertRows(serverHome, agentA);
    assert.deepEqual(
      rows.map((row) => row.id),
      raised.map((alert) => alert.id).sort(),
      'every alert the agent raised is in the console, and nothing else',
    );
    const countOf = new Map(raised.map((alert: Alert) => [alert.id, alert.count]));
    for (const row of rows) assert.equal(row.count, countOf.get(row.id), `alert ${row.id} (${row.dedupe_key}): final count`);
    const occurrences = rows.reduce((sum, row) => sum + row.count, 0);
    assert.equal(occurrences, written, `${written} connects were fed, ${occurrences} counted`);
    assert.ok(raised.some((alert) => alert.count > 1), 'repeated destinations aggregated into counts');
    assert.equal(new Set(rows.map((row) => row.dedupe_key)).size, rows.length, 'one row per deviation');

    // The console's view of the nodes: both seen, the host profile with both nodes' contributions.
    const db = new Database(join(serverHome, 'nomine.db'), { readonly: true });
    try {
      const contributions = db.prepare('select agent_id from server_profile_contributions where profile_id = ?').all(hostProfileId);
      assert.equal(contributions.length, 2);
      const summaries = db.prepare('select counts from server_event_summaries where agent_id = ?').all(agentA) as Array<{ counts: string }>;
      const connects = summaries.reduce((sum, row) => sum + ((JSON.parse(row.counts) as { connect?: number }).connect ?? 0), 0);
      assert.ok(connects > 0 && connects <= written, `event summaries counted ${connects} connects of ${written}`);
    } finally {
      db.close();
    }
    await nodeB.stop();
    server.child.kill('SIGTERM');
    await server.exited;
  });
});
