import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from './alert.ts';
import { openOutbox } from './outbox.ts';
import { formatOutboxRecord } from './outbox-record.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-outbox-'));
  dirs.push(dir);
  return dir;
}

function alert(n: number): Alert {
  return {
    id: `alert-${n}`,
    dedupeKey: `egress-not-allowed|container:kv|10.0.0.${n % 250}:3333`,
    rule: 'egress-not-allowed',
    severity: 'high',
    message: `kv-1 connected to 10.0.0.${n % 250}:3333, which its profile does not allow.`,
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    seen: `connect tcp 10.0.0.${n % 250}:3333`,
    allowed: '1 destination: 10.0.0.5:6379',
    mode: 'alert',
    phase: 'enforcing',
    action: { taken: 'none', reason: 'alert mode only reports' },
    firstAt: n,
    lastAt: n,
    count: 1,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => alert(from + i));
const ids = (records: { alert: Alert }[]) => records.map((r) => r.alert.id);

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'segments'))).sort();
}

describe('alert outbox', () => {
  it('gives back what was appended, in order, from any position', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox(dir, { outputs: ['webhook'] });
    assert.equal(await outbox.append(range(1, 3)), 3);
    assert.equal(await outbox.append(range(4, 5)), 5);
    assert.deepEqual(ids(await outbox.read('webhook', 0, 100)), ids(range(1, 5).map((a) => ({ alert: a }))));
    assert.deepEqual(
      (await outbox.read('webhook', 2, 2)).map((r) => r.seq),
      [3, 4],
    );
    assert.deepEqual(await outbox.read('webhook', 5, 10), []);
    assert.deepEqual((await outbox.read('webhook', 0, 1))[0]!.alert, alert(1));
    await outbox.close();
  });

  it('replays from the cursor after a crash (the directory reopened without a clean close)', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['webhook'] });
    await first.append(range(1, 10));
    await first.acknowledge('webhook', 4);
    // No close(): the process died here.
    const second = await openOutbox(dir, { outputs: ['webhook'] });
    assert.equal(second.lastSeq, 10);
    assert.equal(second.cursor('webhook'), 4);
    assert.deepEqual(
      (await second.read('webhook', second.cursor('webhook'), 100)).map((r) => r.seq),
      [5, 6, 7, 8, 9, 10],
    );
    assert.equal(await second.append([alert(11)]), 11, 'numbering carries on');
    assert.deepEqual(
      (await second.read('webhook', 9, 100)).map((r) => r.seq),
      [10, 11],
    );
    await second.close();
    await first.close();
  });

  it('cuts off and counts a torn last line, and appends cleanly after it', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['jsonl'] });
    await first.append(range(1, 3));
    const [segment] = await segmentFiles(dir);
    const torn = formatOutboxRecord({ seq: 4, alert: alert(4) }).slice(0, 40);
    await appendFile(join(dir, 'segments', segment!), torn);
    const second = await openOutbox(dir, { outputs: ['jsonl'] });
    assert.equal(second.stats().tornLines, 1);
    assert.equal(second.lastSeq, 3);
    await second.append([alert(4)]);
    assert.deepEqual(
      (await second.read('jsonl', 0, 100)).map((r) => r.seq),
      [1, 2, 3, 4],
    );
    const text = await readFile(join(dir, 'segments', segment!), 'utf8');
    assert.ok(!text.includes(torn), 'the torn fragment is gone from disk');
    await second.close();
    const third = await openOutbox(dir, { outputs: ['jsonl'] });
    assert.equal(third.stats().tornLines, 0, 'counted once, not on every open');
    await third.close();
    await first.close();
  });

  it('skips and counts lines that are not records: garbage, binary, wrong types, an endless line', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['jsonl'] });
    await first.append(range(1, 2));
    const [segment] = await segmentFiles(dir);
    const path = join(dir, 'segments', segment!);
    await appendFile(path, 'garbage\n');
    await appendFile(path, Buffer.from([0, 1, 2, 0xff, 0xfe, 10]));
    await appendFile(path, `${JSON.stringify({ seq: 'three', alert: alert(3) })}\n`);
    await appendFile(path, `${'x'.repeat(600 * 1024)}\n`);
    await appendFile(path, formatOutboxRecord({ seq: 1, alert: alert(1) }), 'utf8'); // seq going back
    await appendFile(path, formatOutboxRecord({ seq: 3, alert: alert(3) }));
    const second = await openOutbox(dir, { outputs: ['jsonl'] });
    assert.equal(second.stats().corruptLines, 5);
    assert.deepEqual(
      (await second.read('jsonl', 0, 100)).map((r) => r.seq),
      [1, 2, 3],
    );
    assert.deepEqual(
      (await second.read('jsonl', 2, 100)).map((r) => r.seq),
      [3],
    );
    await second.close();
    await first.close();
  });

  it('removes a segment that holds no record at all', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['jsonl'] });
    await first.close();
    await writeFile(join(dir, 'segments', '0000000000000001.jsonl'), 'y'.repeat(300 * 1024));
    await writeFile(join(dir, 'segments', 'notes.txt'), 'not a segment');
    const second = await openOutbox(dir, { outputs: ['jsonl'] });
    assert.equal(second.stats().tornLines, 1);
    assert.equal(second.stats().segments, 0);
    assert.deepEqual(await segmentFiles(dir), ['notes.txt']);
    await second.append([alert(1)]);
    assert.equal((await second.read('jsonl', 0, 10)).length, 1);
    await second.close();
  });

  it('keeps each output at its own cursor and deletes a segment only once both have passed it', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox(dir, { outputs: ['jsonl', 'webhook'], segmentBytes: 2048, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 10; i++) await outbox.append(range(i * 5 + 1, i * 5 + 5));
    const before = (await segmentFiles(dir)).length;
    assert.ok(before >= 5, `${before} segments`);
    await outbox.acknowledge('jsonl', 50);
    assert.equal((await segmentFiles(dir)).length, before, 'webhook has not passed any of them');
    assert.deepEqual(
      (await outbox.read('webhook', outbox.cursor('webhook'), 3)).map((r) => r.seq),
      [1, 2, 3],
    );
    await outbox.acknowledge('webhook', 25);
    const middle = (await segmentFiles(dir)).length;
    assert.ok(middle < before && middle > 1, `${middle} segments left`);
    assert.deepEqual(
      (await outbox.read('webhook', 25, 100)).map((r) => r.seq),
      Array.from({ length: 25 }, (_, i) => 26 + i),
    );
    assert.deepEqual(await outbox.read('jsonl', 50, 100), []);
    await outbox.acknowledge('webhook', 50);
    await outbox.close();
    assert.deepEqual(await segmentFiles(dir), [], 'everything delivered everywhere: nothing left on disk');
    const cursors = JSON.parse(await readFile(join(dir, 'cursors', 'webhook.json'), 'utf8'));
    assert.deepEqual(cursors, { seq: 50 });
  });

  it('carries the numbering on when every segment was delivered and deleted', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['jsonl'] });
    await first.append(range(1, 3));
    await first.acknowledge('jsonl', 3);
    await first.close();
    const second = await openOutbox(dir, { outputs: ['jsonl'] });
    assert.equal(second.lastSeq, 3);
    assert.equal(await second.append([alert(4)]), 4);
    assert.deepEqual(
      (await second.read('jsonl', second.cursor('jsonl'), 10)).map((r) => r.seq),
      [4],
    );
    await second.close();
  });

  it('stays within its size by dropping the oldest segment, and counts the alerts lost, across restarts', async () => {
    const dir = await tempDir();
    const maxBytes = 16 * 1024;
    const outbox = await openOutbox(dir, { outputs: ['webhook'], segmentBytes: 4096, maxBytes });
    for (let i = 0; i < 40; i++) await outbox.append(range(i * 5 + 1, i * 5 + 5));
    let onDisk = 0;
    for (const name of await segmentFiles(dir)) onDisk += (await stat(join(dir, 'segments', name))).size;
    assert.ok(onDisk <= maxBytes + 4096, `${onDisk} bytes on disk`);
    const left = await outbox.read('webhook', 0, 1000);
    const stats = outbox.stats();
    assert.ok(stats.dropped > 0);
    assert.equal(stats.dropped + left.length, 200, 'every alert is either still there or counted as dropped');
    assert.equal(left.at(-1)!.seq, 200);
    assert.equal(left[0]!.seq, stats.dropped + 1, 'the oldest went first');
    await outbox.close();
    const reopened = await openOutbox(dir, { outputs: ['webhook'], segmentBytes: 4096, maxBytes });
    assert.equal(reopened.stats().dropped, stats.dropped);
    await reopened.close();
  });

  it('does not count as dropped what every output already had', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox(dir, { outputs: ['a', 'b'], segmentBytes: 4096, maxBytes: 8192 });
    for (let i = 0; i < 10; i++) {
      await outbox.append(range(i * 5 + 1, i * 5 + 5));
      await outbox.acknowledge('a', (i + 1) * 5);
      if (i < 2) await outbox.acknowledge('b', (i + 1) * 5);
    }
    const left = (await outbox.read('b', 10, 1000)).length;
    assert.equal(outbox.stats().dropped + left, 40, 'only what b had not seen counts');
    await outbox.close();
  });

  it('replays everything to an output whose cursor file is damaged, and says so', async () => {
    const dir = await tempDir();
    const first = await openOutbox(dir, { outputs: ['webhook', 'jsonl'] });
    await first.append(range(1, 4));
    await first.acknowledge('webhook', 3);
    await first.close();
    await writeFile(join(dir, 'cursors', 'webhook.json'), '{"seq": "3"');
    await writeFile(join(dir, 'cursors', 'jsonl.json.1234.tmp'), '{"seq": 99}');
    const second = await openOutbox(dir, { outputs: ['webhook', 'jsonl'] });
    assert.equal(second.stats().corruptCursors, 1);
    assert.equal(second.cursor('webhook'), 0);
    assert.equal((await second.read('webhook', 0, 10)).length, 4);
    assert.ok(!(await readdir(join(dir, 'cursors'))).some((n) => n.endsWith('.tmp')), 'leftover temp files are removed');
    await second.close();
  });

  it('refuses output names that would escape the cursor directory', async () => {
    const dir = await tempDir();
    for (const name of ['../etc/passwd', 'a/b', '', '.hidden', 'x'.repeat(100)]) {
      await assert.rejects(openOutbox(dir, { outputs: [name] }), { code: 'invalid-input' });
    }
  });

  it('refuses to append once closed', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox(dir, { outputs: ['jsonl'] });
    await outbox.close();
    await assert.rejects(outbox.append([alert(1)]), { code: 'conflict' });
  });
});
