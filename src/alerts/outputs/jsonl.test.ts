import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Alert } from '../alert.ts';
import { createJsonlOutput } from './jsonl.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function alert(n: number, seen = `exec /tmp/m${n}`): Alert {
  return {
    id: `alert-${n}`,
    dedupeKey: `drift|container:kv|/tmp/m${n}`,
    rule: 'drift',
    severity: 'high',
    message: `kv-1 ran /tmp/m${n}, written after the container started.`,
    entity: { id: 'c1', name: 'kv-1' },
    workload: 'container:kv',
    seen,
    allowed: 'executables from the image only',
    mode: 'alert',
    phase: 'enforcing',
    action: { taken: 'none', reason: 'alert mode only reports' },
    firstAt: n,
    lastAt: n,
    count: 1,
  };
}

const never = new AbortController().signal;

describe('JSON lines output', () => {
  it('appends one alert object per line to a file, across batches and rotations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-jsonl-'));
    dirs.push(dir);
    const path = join(dir, 'alerts.jsonl');
    const output = createJsonlOutput({ path });
    assert.deepEqual(await output.send([alert(1), alert(2, 'argv "a\nb"')], never), { handled: 2, rejected: 0, failedAttempts: 0 });
    await output.send([alert(3)], never);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [alert(1), alert(2, 'argv "a\nb"'), alert(3)],
    );
    assert.equal((await stat(path)).mode & 0o777, 0o600, 'alerts are for the operator only');
    await rename(path, `${path}.1`);
    await output.send([alert(4)], never);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), alert(4), 'a rotated file is picked up by the next batch');
  });

  it('reports a full disk as a failure to retry, without throwing', async () => {
    const output = createJsonlOutput({ path: '/dev/full' });
    const result = await output.send([alert(1)], never);
    assert.equal(result.handled, 0);
    assert.match(result.failure!.message, /ENOSPC/);
  });

  it('reports a file it cannot open as a failure', async () => {
    const output = createJsonlOutput({ path: '/nonexistent-dir/alerts.jsonl' });
    const result = await output.send([alert(1)], never);
    assert.equal(result.handled, 0);
    assert.match(result.failure!.message, /ENOENT/);
  });

  it('writes to a stream such as stdout', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const output = createJsonlOutput({ stream });
    await output.send([alert(1), alert(2)], never);
    assert.deepEqual(
      Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l)),
      [alert(1), alert(2)],
    );
  });

  it('reports a broken stream (EPIPE) as a failure instead of crashing', async () => {
    const stream = new Writable({
      write(_chunk, _enc, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const output = createJsonlOutput({ stream });
    const result = await output.send([alert(1)], never);
    assert.equal(result.handled, 0);
    assert.match(result.failure!.message, /EPIPE/);
  });
});
