import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadSignatures } from '../signatures/load-signatures.ts';
import type { Signatures } from '../signatures/signatures.ts';
import { fileAnalyzers } from './analyzers/index.ts';
import { inlineAnalysis, type FileAnalysis } from './file-analysis.ts';
import type { FileContent } from './layer-entry.ts';
import { workerAnalysis } from './worker-analysis.ts';

const limits = { maxAnalysisInFlightBytes: 64 * 1024, maxAnalyzedFileBytes: 256 * 1024 };
const ids = Object.values(fileAnalyzers).map((analyzer) => analyzer.id);
const miner = Buffer.from('#!/bin/sh\nexec ./xmrig -o stratum+tcp://pool.minexmr.com:4444 --donate-level=1 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A\n');
const program = readFileSync('/usr/bin/ls');

function fileOf(bytes: Buffer, path: string): FileContent {
  return { entry: { path, type: 'file', size: bytes.length, mode: 0o755 }, bytes, truncated: false, sha256: createHash('sha256').update(bytes).digest('hex'), layer: 'sha256:test' };
}

/** Copies `bytes` into memory the analysis provides, as the layer reader does. */
async function reserved(analysis: FileAnalysis, bytes: Buffer): Promise<Buffer> {
  const target = await analysis.reserve!(bytes.length, limits)!;
  bytes.copy(target);
  return target;
}

let signatures: Signatures;
let pool: FileAnalysis;
before(async () => {
  signatures = await loadSignatures();
  pool = workerAnalysis(1, { signatureDirs: [], signatureVersion: signatures.version });
});
after(() => pool.close());

describe('worker analysis', { timeout: 30_000 }, () => {
  it('analyzes files read into the shared slab as the main thread would', async () => {
    const inline = inlineAnalysis(Object.values(fileAnalyzers), signatures);
    for (const [bytes, path] of [[miner, 'usr/bin/start.sh'], [program, 'usr/bin/ls']] as const) {
      const expected = await inline.analyze(fileOf(Buffer.from(bytes), path), ids);
      assert.deepEqual(await pool.analyze(fileOf(await reserved(pool, bytes), path), ids), expected, path);
    }
  });

  it('computes the SHA-256 of a file sent without one, and flags it the same', async () => {
    const { sha256, ...unhashed } = fileOf(await reserved(pool, miner), 'usr/bin/start.sh');
    const result = await pool.analyze(unhashed, ids);
    assert.equal(result.sha256, sha256);
    assert.deepEqual(result, await inlineAnalysis(Object.values(fileAnalyzers), signatures).analyze(fileOf(Buffer.from(miner), 'usr/bin/start.sh'), ids));
  });

  it('gives every region back, also for content it had analyzed before, so the slab never fills up', async () => {
    // Far more bytes than the slab holds pass through it; a leaked region would leave a reserve() waiting forever.
    const results = [];
    for (let round = 0; round < 40; round++) results.push(pool.analyze(fileOf(await reserved(pool, program.subarray(0, 60 * 1024)), `usr/bin/copy-${round}`), ids));
    await Promise.all(results);
    const whole = await pool.reserve!(limits.maxAnalysisInFlightBytes, limits)!;
    pool.release!(whole);
  });

  it("answers each of many files sent in one turn (one message each way) with that file's own result", async () => {
    // Alternate a miner script and a clean text so that a result given to the wrong file would show.
    const clean = Buffer.from('listen 8080\nworkers 4\n');
    const files = Array.from({ length: 60 }, (_, n) => fileOf(Buffer.concat([n % 2 === 0 ? miner : clean, Buffer.from(`# ${n}\n`)]), `etc/app/${n}.sh`));
    const results = await Promise.all(files.map((file) => pool.analyze(file, ids)));
    results.forEach((result, n) => assert.equal(result.signals.length > 0, n % 2 === 0, files[n]!.entry.path));
  });

  it('sends a file too large for the slab as a copy', async () => {
    assert.equal(pool.reserve!(limits.maxAnalyzedFileBytes + 1, limits), undefined);
    const big = Buffer.concat([program, Buffer.alloc(limits.maxAnalyzedFileBytes + 1 - program.length)]);
    const result = await pool.analyze(fileOf(big, 'usr/bin/big'), ids);
    assert.deepEqual(result.failures, []);
  });

  it('fails files sent after its workers are gone instead of leaving them waiting', async () => {
    const own = workerAnalysis(1, { signatureDirs: [], signatureVersion: signatures.version });
    await own.analyze(fileOf(Buffer.from(miner), 'usr/bin/start.sh'), ids);
    await own.close();
    await assert.rejects(own.analyze(fileOf(Buffer.from(miner), 'usr/bin/again.sh'), ids), /analysis worker 0 exited/);
  });
});
