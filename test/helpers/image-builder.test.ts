import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  buildLayer,
  busyboxRootfs,
  dockerImport,
  dockerUnavailable,
  listTarEntries,
  removeImage,
  tarDirectory,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
} from './image-builder.ts';

const run = promisify(execFile);
const layers = [
  { dirs: ['bin', 'etc'], files: [{ path: 'bin/miner', content: 'xmrig', mode: 0o755 }], symlinks: [{ path: 'bin/m', target: 'miner' }] },
  { whiteouts: ['bin/miner'], opaqueDirs: ['etc'], hardlinks: [{ path: 'bin/h', target: 'bin/m' }] },
];

async function skopeoInspect(ref: string): Promise<{ Layers: string[]; Architecture: string; Os: string }> {
  const { stdout } = await run('skopeo', ['inspect', ref]);
  return JSON.parse(stdout);
}

describe('image builder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-builder-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes whiteouts and opaque markers as overlay tools expect', async () => {
    assert.deepEqual(await listTarEntries(await buildLayer(layers[1]!)), ['bin/h', 'bin/.wh.miner', 'etc/.wh..wh..opq']);
  });

  it('compresses a layer with gzip when asked', async () => {
    const blob = await buildLayer(layers[0]!, { compression: 'gzip' });
    assert.deepEqual(await listTarEntries(gunzipSync(blob)), ['bin', 'etc', 'bin/miner', 'bin/m']);
  });

  it('writes an OCI layout that skopeo accepts', async () => {
    await writeOciLayout(join(dir, 'layout'), { layers, refName: 'v1', compression: 'gzip' });
    const inspected = await skopeoInspect(`oci:${join(dir, 'layout')}:v1`);
    assert.equal(inspected.Layers.length, 2);
    assert.equal(inspected.Architecture, 'amd64');
  });

  it('writes an OCI archive that skopeo accepts', async () => {
    await writeOciArchive(join(dir, 'oci.tar'), { layers, compression: 'zstd' });
    assert.equal((await skopeoInspect(`oci-archive:${join(dir, 'oci.tar')}`)).Layers.length, 2);
  });

  for (const format of ['legacy', 'oci'] as const) {
    it(`writes a ${format} docker save archive that skopeo accepts`, async () => {
      const image = await writeDockerArchive(join(dir, `${format}.tar`), { layers, repoTags: ['miner:1'], format });
      const inspected = await skopeoInspect(`docker-archive:${join(dir, `${format}.tar`)}`);
      assert.deepEqual(inspected.Layers, image.layers.map((l) => l.digest));
    });
  }

  it('makes a busybox root FS whose applets link to busybox', async () => {
    await busyboxRootfs(join(dir, 'rootfs'));
    assert.equal(await readlink(join(dir, 'rootfs/bin/sh')), 'busybox');
  });

  it('imports a root FS into Docker with its CMD and ENV', async (t) => {
    const reason = await dockerUnavailable();
    if (reason) return t.skip(reason);
    await busyboxRootfs(join(dir, 'import-root'));
    await tarDirectory(join(dir, 'import-root'), join(dir, 'import.tar'));
    const name = 'nomine-test/builder:1';
    try {
      await dockerImport(join(dir, 'import.tar'), name, { cmd: ['/bin/sh', '-c', 'echo hi'], env: { MINER: 'no' } });
      const { stdout } = await run('docker', ['image', 'inspect', name, '--format', '{{json .Config}}']);
      const config = JSON.parse(stdout);
      assert.deepEqual(config.Cmd, ['/bin/sh', '-c', 'echo hi']);
      assert.ok(config.Env.includes('MINER=no'));
    } finally {
      await removeImage(name);
    }
  });
});
