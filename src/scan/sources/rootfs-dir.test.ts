import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, symlink, link } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { defaultLimits } from '../../platform/limits.ts';
import { NomineError } from '../../core/errors.ts';
import { busyboxRootfs, readLayerBlobs } from '../../../test/helpers/image-builder.ts';
import { rootfsDirSource } from './rootfs-dir.ts';

const context = { limits: defaultLimits };

async function entriesOf(bytes: Buffer): Promise<{ name: string; type: string; linkname?: string; content: string }[]> {
  const extract = tar.extract();
  const result: { name: string; type: string; linkname?: string; content: string }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      result.push({ name: entry.header.name, type: entry.header.type, ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}), content: Buffer.concat(chunks).toString() });
    }
  })();
  extract.end(bytes);
  await done;
  return result;
}

describe('rootfs directory source', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-rootfs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('presents a directory as one uncacheable layer keyed by its absolute path', async () => {
    await busyboxRootfs(join(dir, 'root'));
    const image = await rootfsDirSource(join(dir, 'root')).open(context);
    assert.deepEqual(image.names, []);
    assert.deepEqual(image.config, {});
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]!.key, `rootfs:${join(dir, 'root')}`);
    assert.equal(image.layers[0]!.cacheable, false);
    const [layer] = await readLayerBlobs(image);
    const entries = await entriesOf(layer!.bytes);
    assert.ok(entries.some((e) => e.name === 'bin/busybox' && e.type === 'file'));
    assert.deepEqual(entries.find((e) => e.name === 'bin/sh'), { name: 'bin/sh', type: 'symlink', linkname: 'busybox', content: '' });
  });

  it('packs files, directories, symlinks and hard links without following links out of the directory', async () => {
    const root = join(dir, 'links');
    await mkdir(join(root, 'opt'), { recursive: true });
    await writeFile(join(root, 'opt/miner'), 'stratum+tcp://pool:3333');
    await link(join(root, 'opt/miner'), join(root, 'opt/miner-again'));
    await symlink('/etc', join(root, 'etc-outside'));
    const entries = await entriesOf((await readLayerBlobs(await rootfsDirSource(root).open(context)))[0]!.bytes);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.linkname ?? e.content]),
      [
        ['etc-outside', 'symlink', '/etc'],
        ['opt', 'directory', ''],
        ['opt/miner', 'file', 'stratum+tcp://pool:3333'],
        ['opt/miner-again', 'link', 'opt/miner'],
      ],
    );
  });

  it('skips sockets', async () => {
    const root = join(dir, 'sockets');
    await mkdir(root);
    await writeFile(join(root, 'a'), 'a');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'sock'), resolve));
    try {
      const entries = await entriesOf((await readLayerBlobs(await rootfsDirSource(root).open(context)))[0]!.bytes);
      assert.deepEqual(entries.map((e) => e.name), ['a']);
    } finally {
      server.close();
    }
  });

  it('delivers nothing when its layer is not wanted', async () => {
    assert.deepEqual(await readLayerBlobs(await rootfsDirSource(join(dir, 'links')).open(context), new Set()), []);
  });

  it('reports a missing directory and a file given as a directory', async () => {
    await assert.rejects(rootfsDirSource(join(dir, 'absent')).open(context), (e: unknown) => e instanceof NomineError && e.code === 'not-found');
    await assert.rejects(rootfsDirSource(join(dir, 'links/opt/miner')).open(context), (e: unknown) => e instanceof NomineError && e.code === 'invalid-input');
  });
});
