import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultLimits } from '../../platform/limits.ts';
import { NomineError } from '../../core/errors.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, listTarEntries, readLayerBlobs, removeImage, tarDirectory } from '../../../test/helpers/image-builder.ts';
import { dockerDaemonSource } from './docker-engine.ts';

const run = promisify(execFile);
const context = { limits: defaultLimits };
const base = 'nomine-test/engine-base:1';
const built = 'nomine-test/engine-built:1';

describe('docker-daemon source', () => {
  let dir: string;
  let skip: string | false = false;
  before(async () => {
    skip = await dockerUnavailable();
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'nomine-engine-'));
    await busyboxRootfs(join(dir, 'root'));
    await tarDirectory(join(dir, 'root'), join(dir, 'root.tar'));
    await dockerImport(join(dir, 'root.tar'), base, { cmd: ['/bin/sh'], env: { POOL: 'none' } });
    await mkdir(join(dir, 'ctx'));
    // Several layers, so the legacy export's directory order differs from layer order.
    const steps = Array.from({ length: 6 }, (_, i) => `COPY f${i} /f${i}`).join('\n');
    await writeFile(join(dir, 'ctx/Dockerfile'), `FROM ${base}\n${steps}\n`);
    for (let i = 0; i < 6; i += 1) await writeFile(join(dir, `ctx/f${i}`), `file ${i}`);
    await run('docker', ['build', '-q', '-t', built, join(dir, 'ctx')], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  });
  after(async () => {
    if (skip) return;
    await removeImage(built);
    await removeImage(base);
    await rm(dir, { recursive: true, force: true });
  });

  async function diffIds(name: string): Promise<string[]> {
    const { stdout } = await run('docker', ['image', 'inspect', name, '--format', '{{json .RootFS.Layers}}']);
    return JSON.parse(stdout);
  }

  it('reads an imported image: names, config, its one layer', async (t) => {
    if (skip) return t.skip(skip);
    const image = await dockerDaemonSource(base).open(context);
    try {
      assert.deepEqual(image.names, [base]);
      assert.deepEqual(image.config.config?.Cmd, ['/bin/sh']);
      assert.ok(image.config.config?.Env?.includes('POOL=none'));
      assert.deepEqual(image.layers.map((l) => l.key), await diffIds(base));
      const [layer] = await readLayerBlobs(image);
      assert.ok((await listTarEntries(layer!.bytes)).some((name) => name.replace(/^\.\//, '') === 'bin/busybox'));
    } finally {
      await image.close();
    }
  });

  it('delivers every layer of a multi-layer image with its diff_id, in one export', async (t) => {
    if (skip) return t.skip(skip);
    const image = await dockerDaemonSource(built).open(context);
    try {
      const expected = await diffIds(built);
      assert.deepEqual(image.layers.map((l) => l.key), expected);
      assert.ok(image.layers.every((l) => l.cacheable));
      const blobs = await readLayerBlobs(image);
      assert.deepEqual(blobs.map((b) => b.key).sort(), [...expected].sort());
      for (const blob of blobs.filter((b) => b.index > 0)) {
        assert.deepEqual(await listTarEntries(blob.bytes), [`f${blob.index - 1}`]);
      }
    } finally {
      await image.close();
    }
  });

  it('delivers only the wanted layers', async (t) => {
    if (skip) return t.skip(skip);
    const image = await dockerDaemonSource(built).open(context);
    try {
      const wanted = image.layers[4]!.key;
      assert.deepEqual((await readLayerBlobs(image, new Set([wanted]))).map((b) => b.index), [4]);
    } finally {
      await image.close();
    }
  });

  it('does not export at all when every layer is cached', async (t) => {
    if (skip) return t.skip(skip);
    const image = await dockerDaemonSource(built).open(context);
    // With the client closed any request would reject, so resolving proves no export was asked for.
    await image.close();
    let called = false;
    await image.readLayers(new Set(image.layers.slice(0, 0).map((l) => l.key)), async () => {
      called = true;
    });
    assert.equal(called, false);
    await assert.rejects(image.readLayers(new Set([image.layers[0]!.key]), async () => {}));
  });

  it('reports an unknown image as not found, naming it', async (t) => {
    if (skip) return t.skip(skip);
    await assert.rejects(dockerDaemonSource('nomine-test/absent:1').open(context), (error: unknown) => {
      assert.ok(error instanceof NomineError);
      assert.equal(error.code, 'not-found');
      assert.equal(error.part, 'image nomine-test/absent:1');
      return true;
    });
  });

  it('reports a missing engine socket as unreachable', async () => {
    await assert.rejects(dockerDaemonSource('x:1').open({ ...context, dockerSocket: '/nonexistent/docker.sock' }), (error: unknown) => {
      assert.ok(error instanceof NomineError);
      assert.equal(error.code, 'unreachable');
      assert.match(error.part ?? '', /nonexistent/);
      return true;
    });
  });
});
