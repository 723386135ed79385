/**
 * The ingest sensor end to end: a Falco JSON file that grows while the sensor follows it, and Tetragon events
 * POSTed to its HTTP input with and without the token. Inputs are the recorded traces in test/fixtures/traces.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RawEvent } from '../../src/agent/event.ts';
import type { SensorStatus } from '../../src/agent/sensor.ts';
import { createIngestSensor, type IngestSensorOptions, maxReportedProblems } from '../../src/agent/sensors/ingest-sensor.ts';

const traces = new URL('../fixtures/traces/', import.meta.url);
const falcoLines = readFileSync(new URL('falco-miner-drop.jsonl', traces), 'utf8').trim().split('\n');
const tetragonLines = readFileSync(new URL('tetragon-miner-drop.jsonl', traces), 'utf8').trim().split('\n');
const dir = mkdtempSync(join(tmpdir(), 'nomine-agent-ingest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(options: IngestSensorOptions) {
  const sensor = createIngestSensor(options);
  const events: RawEvent[] = [];
  const statuses: SensorStatus[] = [];
  const controller = new AbortController();
  const running = sensor.start({ sink: (event) => events.push(event), onStatus: (status) => statuses.push(status), signal: controller.signal });
  return { sensor, events, statuses, running, stop: async () => (controller.abort(), running) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ingesting Falco JSON from a file', () => {
  it('follows a growing alert file and maps what Falco appends', async () => {
    const path = join(dir, 'falco-events.json');
    writeFileSync(path, `${falcoLines.slice(0, 3).join('\n')}\n`);
    const ingest = run({ format: 'falco', input: { file: path, follow: true }, reader: { pollIntervalMs: 20 } });
    try {
      await until(() => ingest.events.length === 3, 'the alerts already in the file');
      // Falco writes alert by alert; one arrives in two writes, and a broken line sits among them.
      appendFileSync(path, `${falcoLines[3]!.slice(0, 40)}`);
      await new Promise((resolve) => setTimeout(resolve, 60));
      appendFileSync(path, `${falcoLines[3]!.slice(40)}\n{"output_fields": \n${falcoLines.slice(4).join('\n')}\n`);
      await until(() => ingest.events.length === 9, 'the appended alerts');
    } finally {
      await ingest.stop();
    }
    assert.deepEqual(
      ingest.events.map((event) => event.type),
      ['exec', 'file-write', 'exec', 'connect', 'connect', 'accept', 'listen', 'exit', 'exec'],
    );
    const miner = ingest.events[2]!;
    assert.deepEqual([miner.sensor, miner.pid, miner.containerId, miner.pod?.name], ['falco', 48244, '4f2a9c1e7b3d', 'api-7d9f8b6c5-x2lqp']);
    const stats = ingest.sensor.stats();
    assert.equal(stats.malformed, 1);
    assert.equal(Object.values(stats.skipped).reduce((sum, count) => sum + count, 0), 2);
    assert.ok(ingest.statuses.some((status) => status.kind === 'warning' && /falco-events\.json line 5: malformed JSON/.test(status.message)));
    assert.equal(ingest.statuses.at(-1)?.kind, 'stopped');
    assert.match(ingest.statuses.at(-1)?.message ?? '', /9 events from 11 values, 2 skipped, 1 malformed lines/);
  });

  it('reads a file once and ends by itself when not following', async () => {
    const path = join(dir, 'falco-once.json');
    writeFileSync(path, `${falcoLines.join('\n')}\n`);
    const ingest = run({ format: 'falco', input: { file: path } });
    await ingest.running;
    assert.equal(ingest.events.length, 9);
  });

  it('counts a flood of garbage but reports only the first problems one by one', async () => {
    const path = join(dir, 'falco-garbage.json');
    const garbage = Array.from({ length: 250 }, (_, index) => (index % 2 ? `{"output_fields":{"evt.type":"procexit","proc.pid":"${index}"}}` : `garbage ${index}`));
    writeFileSync(path, `${garbage.join('\n')}\n${falcoLines[0]}\n`);
    const ingest = run({ format: 'falco', input: { file: path } });
    await ingest.running;
    assert.equal(ingest.events.length, 1);
    const stats = ingest.sensor.stats();
    assert.deepEqual([stats.malformed, stats.invalid], [125, 125]);
    const warnings = ingest.statuses.filter((status) => status.kind === 'warning');
    assert.equal(warnings.length, maxReportedProblems + 1);
    assert.match(warnings.at(-1)?.message ?? '', /only counted/);
    assert.match(warnings[1]?.message ?? '', /falco-garbage\.json line 2: proc\.pid is the string "1", not an integer/);
  });

  it('says the file is missing before starting', async () => {
    const sensor = createIngestSensor({ format: 'falco', input: { file: join(dir, 'absent.json') } });
    assert.deepEqual(await sensor.available(), { ok: false, reason: `file not found: ${join(dir, 'absent.json')}` });
  });
});

describe('ingesting Tetragon JSON over HTTP', () => {
  const token = 'nomine-e2e-5b8d2f0a91c7';

  it('accepts events POSTed with the token, one per request, and refuses the rest', async () => {
    let url = '';
    const ingest = run({ format: 'tetragon', input: { http: { port: 0, token } }, onListening: ({ host, port }) => (url = `http://${host}:${port}/`) });
    try {
      await until(() => url !== '', 'the HTTP input to listen');
      const refused = await fetch(url, { method: 'POST', body: tetragonLines[0] });
      assert.equal(refused.status, 401);
      const forged = await fetch(url, { method: 'POST', body: tetragonLines[0], headers: { authorization: 'Bearer guessed' } });
      assert.equal(forged.status, 401);
      assert.equal(ingest.events.length, 0);

      for (const line of tetragonLines) {
        const response = await fetch(url, { method: 'POST', body: line, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
        assert.equal(response.status, 200);
      }
      const garbage = await fetch(url, { method: 'POST', body: '{"process_exec": {"process": {"pid": "1"}}}\nnot json', headers: { authorization: `Bearer ${token}` } });
      assert.equal(garbage.status, 400);
    } finally {
      await ingest.stop();
    }
    assert.deepEqual(
      ingest.events.map((event) => event.type),
      ['exec', 'file-write', 'exec', 'connect', 'listen', 'exit', 'exit', 'exec'],
    );
    assert.ok(ingest.events.every((event) => event.sensor === 'tetragon'));
    assert.equal(ingest.events[3]?.containerId, '4f2a9c1e7b3d58a06e91c2d4b7f80a3e5d6c9b1a2f4e7d8c0b3a6e9f1d2c4b5a');
    const stats = ingest.sensor.stats();
    assert.deepEqual([stats.refused, stats.malformed], [2, 1]);
    assert.ok(ingest.statuses.some((status) => status.kind === 'started' && status.message.startsWith('accepting Tetragon JSON at http://127.0.0.1:')));
  });

  it('says the port is in use, and that a token is needed', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const taken = await createIngestSensor({ format: 'tetragon', input: { http: { port, token } } }).available();
      assert.ok(!taken.ok && /port \d+ on 127\.0\.0\.1 is in use/.test(taken.reason));
    } finally {
      blocker.close();
    }
    const tokenless = createIngestSensor({ format: 'falco', input: { http: { port: 0, token: '' } } });
    const availability = await tokenless.available();
    assert.ok(!availability.ok && /bearer token/.test(availability.reason));
    await assert.rejects(tokenless.start({ sink: () => {}, onStatus: () => {}, signal: new AbortController().signal }), /bearer token/);
  });
});
