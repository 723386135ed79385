import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { pack, type Header } from 'tar-stream';
import { NomineError } from '../core/errors.ts';
import { defaultLimits, type Limits } from '../platform/limits.ts';
import type { Signatures } from '../signatures/signatures.ts';
import { readLayer, type LayerAnalysisOptions } from './analyze-layer.ts';
import { inlineAnalysis, type FileAnalysis } from './file-analysis.ts';
import type { FileAnalyzer } from './file-analyzer.ts';
import { SharedSlab, type SlabRegion } from './shared-slab.ts';

/** The layer read and every file analyzed: its report. */
async function analyzeLayer(blob: Readable, options: LayerAnalysisOptions) {
  return (await readLayer(blob, options)).analysed;
}

// A real analyzer, kept tiny so these tests pin the layer pipeline rather than the rules.
const stratumAnalyzer: FileAnalyzer = {
  id: 'test-stratum',
  version: 1,
  wants: ({ head }) => head.subarray(0, 4).toString('latin1') === '\x7fELF',
  analyze: (file) =>
    file.bytes.includes('stratum+tcp://')
      ? [{ analyzer: 'test-stratum', rule: 'test.stratum', strength: 'conclusive', summary: 'contains a stratum URL' }]
      : [],
};

const signatures = { version: 'test' } as Signatures;

type Item = Partial<Header> & { name: string; content?: Buffer | string };

async function tarOf(items: Item[]): Promise<Buffer> {
  const tar = pack();
  for (const { content, ...header } of items) {
    tar.entry(header, content ?? '');
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const miner = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(9000), Buffer.from('-o stratum+tcp://pool.example:3333')]);
const benign = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(5000, 7)]);

function run(blob: Buffer, limits: Partial<Limits> = {}) {
  return analyzeLayer(Readable.from([blob]), { key: 'sha256:test', part: 'layer 0 sha256:test', analyzers: [stratumAnalyzer], analysis: inlineAnalysis([stratumAnalyzer], signatures), limits: { ...defaultLimits, ...limits } });
}

test('flags the miner in a plain tar layer and leaves the benign file alone', async () => {
  const report = await run(await tarOf([{ name: 'usr/bin/', type: 'directory' }, { name: 'usr/bin/kworker', content: miner, mode: 0o755 }, { name: 'usr/bin/ok', content: benign, mode: 0o755 }]));
  assert.deepEqual(report.flagged.map((file) => file.path), ['usr/bin/kworker']);
  assert.equal(report.flagged[0]!.verdict, 'malicious');
  assert.match(report.flagged[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(report.paths, ['usr/bin/kworker', 'usr/bin/ok']);
  assert.equal(report.stats.analyzedFiles, 2);
});

test('is done reading a layer before its files are analyzed, so the next layer can be read meanwhile', async () => {
  let releaseAnalysis!: () => void;
  const analysisHeld = new Promise<void>((resolve) => (releaseAnalysis = resolve));
  const inline = inlineAnalysis([stratumAnalyzer], signatures);
  const slowAnalysis: FileAnalysis = { ...inline, analyze: async (file, ids) => (await analysisHeld, inline.analyze(file, ids)) };
  const blob = await tarOf([{ name: 'usr/bin/kworker', content: miner, mode: 0o755 }]);
  const { analysed } = await readLayer(Readable.from([blob]), { key: 'sha256:test', part: 'layer 0', analyzers: [stratumAnalyzer], analysis: slowAnalysis, limits: defaultLimits });
  let settled = false;
  void analysed.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'the analysis is still held, yet the layer was read');
  releaseAnalysis();
  assert.deepEqual((await analysed).flagged.map((file) => file.path), ['usr/bin/kworker']);
});

test('leaves the digest of a file kept whole to the analysis, unless the analysis lags behind', async () => {
  for (const lagging of [false, true]) {
    const given: (string | undefined)[] = [];
    const inline = inlineAnalysis([stratumAnalyzer], signatures);
    const analysis: FileAnalysis = { ...inline, lagging: () => lagging, analyze: (file, ids) => (given.push(file.sha256), inline.analyze(file, ids)) };
    const report = await analyzeLayer(Readable.from([await tarOf([{ name: 'usr/bin/kworker', content: miner }])]), { key: 'sha256:test', part: 'layer 0', analyzers: [stratumAnalyzer], analysis, limits: defaultLimits });
    assert.deepEqual(given, [lagging ? createHash('sha256').update(miner).digest('hex') : undefined]);
    assert.equal(report.flagged[0]!.sha256, createHash('sha256').update(miner).digest('hex'), 'the finding carries the digest either way');
  }
});

test('reads gzip and zstd layers the same as plain tar', async () => {
  const tar = await tarOf([{ name: 'opt/m', content: miner }]);
  for (const blob of [gzipSync(tar), zstdCompress(tar)]) {
    const report = await run(blob);
    assert.deepEqual(report.flagged.map((file) => file.path), ['opt/m']);
    assert.equal(report.stats.bytes, tar.length);
  }
});

test('records whiteouts and opaque directories instead of treating them as files', async () => {
  const report = await run(await tarOf([{ name: 'opt/.wh.miner' }, { name: 'var/cache/.wh..wh..opq' }, { name: '.wh.tmp' }]));
  assert.deepEqual(report.whiteouts, ['opt/miner', 'tmp']);
  assert.deepEqual(report.opaqueDirs, ['var/cache']);
  assert.deepEqual(report.paths, []);
});

test('reports entries that climb out of the root, and still analyzes their content', async () => {
  const report = await run(await tarOf([{ name: '../../etc/cron.d/job', content: miner }]));
  assert.equal(report.problems[0]?.code, 'path-escapes-root');
  assert.match(report.problems[0]!.message, /\.\.\/\.\.\/etc\/cron\.d\/job/);
  assert.deepEqual(report.flagged.map((file) => file.path), ['etc/cron.d/job']);
});

test('reports a hard link that points outside the root and does not follow it', async () => {
  const report = await run(await tarOf([{ name: 'x', type: 'link', linkname: '../../../etc/shadow' }, { name: 'y', type: 'symlink', linkname: '/usr/bin/env' }]));
  assert.deepEqual(report.problems.map((problem) => problem.code), ['link-escapes-root']);
});

test('a truncated gzip layer fails with an error naming the layer', async () => {
  const gz = gzipSync(await tarOf([{ name: 'opt/m', content: miner }]));
  await assert.rejects(run(gz.subarray(0, gz.length - 20)), (error: unknown) => {
    assert.ok(error instanceof NomineError);
    assert.equal(error.code, 'invalid-input');
    assert.equal(error.part, 'layer 0 sha256:test');
    return true;
  });
});

test('corrupt gzip data fails with invalid-input, not a crash', async () => {
  const gz = gzipSync(await tarOf([{ name: 'opt/m', content: miner }]));
  gz.fill(0x55, 40, 80);
  await assert.rejects(run(gz), (error: unknown) => error instanceof NomineError && error.code === 'invalid-input');
});

test('a truncated tar fails with a clear error', async () => {
  const tar = await tarOf([{ name: 'opt/m', content: miner }]);
  await assert.rejects(run(tar.subarray(0, 2048)), (error: unknown) => error instanceof NomineError && /truncated|tar/.test(error.message));
});

test('something that is not a layer at all is refused by its first bytes', async () => {
  await assert.rejects(run(Buffer.from('{"this": "is json, not a layer"}'.padEnd(600, ' '))), (error: unknown) => error instanceof NomineError && error.code === 'unsupported');
});

test('a decompression bomb stops at the layer limit with limit-exceeded', async () => {
  const bomb = gzipSync(await tarOf([{ name: 'zeros', content: Buffer.alloc(20 * 1024 * 1024) }]));
  assert.ok(bomb.length < 100_000);
  await assert.rejects(run(bomb, { maxLayerBytes: 1024 * 1024 }), (error: unknown) => error instanceof NomineError && error.code === 'limit-exceeded' && /decompression bomb/.test(error.message));
});

test('a file over the per-file limit is skipped and reported, and the layer goes on', async () => {
  const report = await run(await tarOf([{ name: 'big', content: Buffer.alloc(300_000) }, { name: 'opt/m', content: miner }]), { maxFileBytes: 100_000 });
  assert.equal(report.problems[0]?.code, 'file-too-large');
  assert.deepEqual(report.flagged.map((file) => file.path), ['opt/m']);
});

test('a file larger than the analysis window is hashed in full and analyzed on its prefix', async () => {
  const big = Buffer.concat([miner, Buffer.alloc(200_000, 1)]);
  const report = await run(await tarOf([{ name: 'opt/m', content: big }]), { maxAnalyzedFileBytes: 64 * 1024 });
  const file = report.flagged[0]!;
  assert.equal(file.truncated, true);
  assert.equal(file.size, big.length);
  assert.equal(file.sha256, createHash('sha256').update(big).digest('hex'));
});

test('a header declaring an absurd size in a short archive fails as truncated', async () => {
  const tar = Buffer.from(await tarOf([{ name: 'opt/m', content: miner }]));
  // Rewrite the size field (octal, offset 124) to 077777777777 and fix the checksum.
  tar.write('77777777777\0', 124, 'latin1');
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += tar[i]!;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await assert.rejects(run(tar), (error: unknown) => error instanceof NomineError && error.code === 'invalid-input');
});

test('the analyzed prefix of a large file is exactly limits.maxAnalyzedFileBytes long', async () => {
  const seen: number[] = [];
  const measuring: FileAnalyzer = { id: 'measure', version: 1, wants: () => true, analyze: (file) => (seen.push(file.bytes.length), []) };
  const big = Buffer.alloc(200_000, 1);
  await analyzeLayer(Readable.from([await tarOf([{ name: 'opt/big', content: big }, { name: 'opt/small', content: 'abc' }])]), {
    key: 'sha256:test',
    part: 'layer 0',
    analyzers: [measuring],
    analysis: inlineAnalysis([measuring], signatures),
    limits: { ...defaultLimits, maxAnalyzedFileBytes: 65_537 },
  });
  assert.deepEqual(seen, [65_537, 3]);
});

/** An analysis that hands out memory from a shared slab, as the worker pool does, and runs analyzers inline. */
function slabAnalysis(slab: SharedSlab): FileAnalysis {
  const inner = inlineAnalysis([stratumAnalyzer], signatures);
  const regions = new Map<number, SlabRegion>();
  const release = (buffer: Buffer) => {
    const region = buffer.buffer === slab.buffer ? regions.get(buffer.byteOffset) : undefined;
    if (region) slab.release(region);
  };
  return {
    reserve: (bytes) => (bytes < 1 || bytes > slab.capacity ? undefined : slab.reserve(bytes).then((region) => (regions.set(region.offset, region), Buffer.from(slab.buffer, region.offset, region.size)))),
    release,
    analyze: async (file, ids) => {
      try {
        return await inner.analyze(file, ids);
      } finally {
        release(file.bytes);
      }
    },
    close: async () => undefined,
  };
}

test('reads files into memory the analysis provides, waits for room, and gives it back on a broken layer', async () => {
  const slab = new SharedSlab(16 * 1024);
  const many = await tarOf(Array.from({ length: 20 }, (_, i) => ({ name: `opt/m${i}`, content: miner, mode: 0o755 })));
  const options = { key: 'sha256:test', part: 'layer 0', analyzers: [stratumAnalyzer], analysis: slabAnalysis(slab), limits: defaultLimits };
  const report = await analyzeLayer(Readable.from([many]), options);
  assert.equal(report.flagged.length, 20, 'twenty 9 KB files passed through a 16 KB slab');
  assert.equal(slab.held, 0);
  const broken = await tarOf([{ name: 'opt/m', content: Buffer.concat([miner, Buffer.alloc(6000)]) }]);
  await assert.rejects(analyzeLayer(Readable.from([broken.subarray(0, 4096)]), options));
  assert.equal(slab.held, 0, 'the region of the file cut short is given back');
});

test('a file only a digest reader wants is hashed in passing: flagged by its hash, never held in analysis memory', async () => {
  const data = Buffer.alloc(300_000, 3);
  const knownSha = createHash('sha256').update(data).digest('hex');
  const knownHash: FileAnalyzer = {
    id: 'known-hash',
    version: 1,
    digestOnly: true,
    wants: () => true,
    analyze: (file) => (file.sha256 === knownSha && file.bytes.length === 0 ? [{ analyzer: 'known-hash', rule: 'hash.known', strength: 'conclusive', summary: 'known miner hash' }] : []),
  };
  let reserved = 0;
  const inner = inlineAnalysis([knownHash, stratumAnalyzer], signatures);
  const analysis: FileAnalysis = { ...inner, reserve: (bytes) => ((reserved += bytes), Promise.resolve(Buffer.alloc(bytes))) };
  const report = await analyzeLayer(Readable.from([await tarOf([{ name: 'opt/blob.bin', content: data }, { name: 'usr/bin/kworker', content: miner }])]), {
    key: 'sha256:test',
    part: 'layer 0',
    analyzers: [knownHash, stratumAnalyzer],
    analysis,
    limits: defaultLimits,
  });
  assert.deepEqual(report.flagged.map((file) => [file.path, file.truncated]), [['opt/blob.bin', false], ['usr/bin/kworker', false]]);
  assert.equal(reserved, miner.length, 'only the program took analysis memory');
});
