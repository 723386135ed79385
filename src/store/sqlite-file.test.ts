import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openSqliteFile } from './sqlite-file.ts';

/**
 * Another connection, in a worker thread, that creates `file` and holds its write lock for `holdMs` while still in
 * the default rollback journal: what a second command meets when it opens a fresh data directory a moment after
 * the first. Resolves once the lock is taken, with a promise for its release.
 */
function holdNewFileLocked(file: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const source = `
    const SQLite = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
    const { parentPort, workerData } = require('node:worker_threads');
    const db = new SQLite(workerData.file);
    db.exec('begin immediate');
    db.exec('create table kept (value text)');
    db.exec("insert into kept values ('written by the first connection')");
    parentPort.postMessage('locked');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
    db.exec('commit');
    db.close();
  `;
  const worker = new Worker(source, { eval: true, workerData: { file, holdMs } });
  const released = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve({ released }));
    released.catch(reject);
  });
}

describe('openSqliteFile', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('waits for another connection that holds a new file locked, then opens it in WAL mode with its data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-sqlite-file-'));
    dirs.push(dir);
    const file = join(dir, 'nomine.db');
    const { released } = await holdNewFileLocked(file, 300);
    const db = openSqliteFile(file);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(db.prepare('select value from kept').all(), [{ value: 'written by the first connection' }]);
      assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    } finally {
      db.close();
      await released;
    }
  });
});
