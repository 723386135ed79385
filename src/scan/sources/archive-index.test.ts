import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomineError } from '../../core/errors.ts';
import { defaultLimits } from '../../platform/limits.ts';
import { writeTar } from '../../../test/helpers/image-builder.ts';
import { indexArchive } from './archive-index.ts';

const MiB = 1024 * 1024;

/** Bytes this process has read through read(2) and pread(2) so far (Linux). */
async function bytesReadSoFar(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1]);
}

async function drain(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('archive index', { timeout: 60_000 }, () => {
  let dir: string;
  let path: string;
  const big = Buffer.alloc(32 * MiB, 0x62);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-archive-index-'));
    path = join(dir, 'image.tar');
    await writeTar(path, [
      { name: 'big/layer.tar', content: big },
      { name: 'small/layer.tar', content: Buffer.from('small layer') },
      { name: 'small/link.tar', linkTarget: 'layer.tar' },
      { name: 'manifest.json', content: Buffer.from('[]') },
    ]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads headers, the documents asked for and the wanted layers, never the layers left out', async () => {
    const before = await bytesReadSoFar();
    const archive = await indexArchive(path, defaultLimits);
    assert.equal((await archive.readDocument('manifest.json', 'manifest.json')).toString(), '[]');
    const seen: [string, string][] = [];
    await archive.streamFiles(new Set([archive.resolve('small/link.tar', 'layer').name]), async (entry, stream) => {
      seen.push([entry.name, (await drain(stream)).toString()]);
    });
    const read = (await bytesReadSoFar()) - before;
    assert.deepEqual(seen, [['small/layer.tar', 'small layer']]);
    assert.ok(read < MiB, `read ${read} bytes for a few headers, a document and an 11-byte layer of a ${32 * MiB}-byte archive`);
    assert.equal(archive.entries.get('big/layer.tar')?.size, big.length);
  });

  it('streams several entries in archive order, each in full', async () => {
    const archive = await indexArchive(path, defaultLimits);
    const seen: [string, number][] = [];
    await archive.streamFiles(new Set(['small/layer.tar', 'big/layer.tar']), async (entry, stream) => {
      const bytes = await drain(stream);
      if (entry.name === 'big/layer.tar') assert.ok(bytes.equals(big));
      seen.push([entry.name, bytes.length]);
    });
    assert.deepEqual(seen, [['big/layer.tar', big.length], ['small/layer.tar', 11]]);
  });

  it('fails a layer whose archive is cut short while it streams, before the reader sees an end', async () => {
    const copy = join(dir, 'cut.tar');
    await writeTar(copy, [{ name: 'big/layer.tar', content: big }, { name: 'manifest.json', content: Buffer.from('[]') }]);
    const archive = await indexArchive(copy, defaultLimits);
    let ended = false;
    await assert.rejects(
      archive.streamFiles(new Set(['big/layer.tar']), async (_entry, stream) => {
        // Backpressure keeps the read a few chunks ahead of the reader, so most of the 32 MiB is still on disk.
        await truncate(copy, 512 + MiB);
        await drain(stream);
        ended = true;
      }),
      (error: unknown) => error instanceof NomineError && /archive changed while being read: big\/layer.tar ends after \d+ of 33554432 bytes/.test(error.message),
    );
    assert.equal(ended, false);
  });
});
