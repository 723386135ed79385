import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createConsoleClient } from '../../agent/console/console-client.ts';
import { sessionHeaders, startTestServer, withAdmin, type Session, type TestServer } from '../../server/testing/test-server.ts';
import type { Alert } from '../alert.ts';
import { alertBatchOf, createConsoleOutput, toBatchAlert } from './console.ts';

function alert(index: number, overrides: Partial<Alert> = {}): Alert {
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    dedupeKey: `drift|wl|/tmp/m${index}`,
    rule: 'drift',
    severity: 'high',
    message: `kv-1 ran /tmp/m${index}.`,
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    seen: `exec /tmp/m${index}`,
    allowed: 'executables from the image only',
    mode: 'alert',
    phase: 'enforcing',
    action: { taken: 'none', reason: 'alert mode' },
    firstAt: 1_000 + index,
    lastAt: 1_000 + index,
    count: 1,
    ...overrides,
  };
}

const signal = new AbortController().signal;

describe('toBatchAlert', () => {
  it('cuts free text to the console’s bounds and keeps the rest as it is', () => {
    const long = alert(1, { dedupeKey: 'k'.repeat(3000), message: 'm'.repeat(4096), entity: { id: 'c1', name: 'n'.repeat(600) }, profileId: 'has space' });
    const item = toBatchAlert(long);
    assert.equal(item.dedupeKey.length, 1024);
    assert.equal(item.message.length, 4096);
    assert.equal(item.entity.name.length, 512);
    assert.equal('profileId' in item, false);
    assert.equal(item.id, long.id);
  });

  it('names a batch by its content, not by when it is sent', () => {
    assert.equal(alertBatchOf([alert(1), alert(2)], 1).batchId, alertBatchOf([alert(1), alert(2)], 99).batchId);
    assert.notEqual(alertBatchOf([alert(1)], 1).batchId, alertBatchOf([alert(1, { count: 2 })], 1).batchId);
  });
});

describe('console output against a real console', () => {
  let server: TestServer;
  let admin: Session;
  let url: string;
  let credential: string;
  let agentId: string;
  before(async () => {
    server = await startTestServer();
    admin = await withAdmin(server);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const token = (await server.app.inject({ method: 'POST', url: '/api/join-tokens', headers: sessionHeaders(admin), payload: { name: 'n', ttlSeconds: 600 } })).json().token;
    const enrolled = await createConsoleClient({ server: url }).enrol({ joinToken: token, nodeName: 'node-1', version: '0.1.0' });
    credential = enrolled.credential;
    agentId = enrolled.agentId;
  });
  after(() => server.close());

  const rows = () => server.db.selectFrom('server_alerts').selectAll().orderBy('id').execute();

  it('delivers a batch of alerts, and a repeated delivery adds no row', async () => {
    const output = createConsoleOutput({ client: createConsoleClient({ server: url, credential }) });
    assert.deepEqual(await output.send([alert(1), alert(2)], signal), { handled: 2, rejected: 0, failedAttempts: 0 });
    assert.deepEqual(await output.send([alert(1), alert(2)], signal), { handled: 2, rejected: 0, failedAttempts: 0 });
    assert.deepEqual((await rows()).map((row) => [row.agent_id, row.count]), [[agentId, 1], [agentId, 1]]);
    const batches = await server.db.selectFrom('server_agent_batches').select('batch_id').execute();
    assert.equal(batches.length, 1, 'the second delivery was a replay of the first batch');
  });

  it('rejects only the alert the console refuses, delivering the others of its batch', async () => {
    const output = createConsoleOutput({ client: createConsoleClient({ server: url, credential }) });
    const result = await output.send([alert(3), alert(4, { entity: { id: 'has spaces', name: 'x' } }), alert(5)], signal);
    assert.deepEqual([result.handled, result.rejected, result.failure], [3, 1, undefined]);
    assert.match(result.rejection ?? '', /HTTP 400.*alerts\.0\.entity\.id/);
    assert.deepEqual((await rows()).map((row) => row.id.slice(-1)), ['1', '2', '3', '5']);
  });

  it('fails, rejecting nothing, while the console is down or refuses the credential', async () => {
    const down = createConsoleOutput({ client: createConsoleClient({ server: 'http://127.0.0.1:9', credential }) });
    const offline = await down.send([alert(6)], signal);
    assert.deepEqual([offline.handled, offline.rejected], [0, 0]);
    assert.match(offline.failure?.message ?? '', /connection refused/);
    await server.app.inject({ method: 'DELETE', url: `/api/agents/${agentId}`, headers: sessionHeaders(admin) });
    const revoked = await createConsoleOutput({ client: createConsoleClient({ server: url, credential }) }).send([alert(6)], signal);
    assert.deepEqual([revoked.handled, revoked.rejected], [0, 0]);
    assert.match(revoked.failure?.message ?? '', /HTTP 401: .*was revoked/);
  });
});
