import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile, mkdir, symlink, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { defaultLimits } from '../../platform/limits.ts';
import { NomineError } from '../../core/errors.ts';
import type { ImageSource, SourceContext } from '../image-source.ts';
import {
  busyboxRootfs,
  dockerImport,
  dockerUnavailable,
  listTarEntries,
  readLayerBlobs,
  removeImage,
  tarDirectory,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  writeTar,
  sha256,
} from '../../../test/helpers/image-builder.ts';
import { dockerArchiveSource } from './docker-archive.ts';
import { ociArchiveSource } from './oci-archive.ts';
import { ociLayoutSource } from './oci-layout.ts';

const run = promisify(execFile);
const context: SourceContext = { limits: defaultLimits };
const layers = [
  { dirs: ['bin'], files: [{ path: 'bin/xmrig', content: 'stratum+tcp://pool', mode: 0o755 }] },
  { files: [{ path: 'etc/motd', content: 'hello' }] },
  { whiteouts: ['bin/xmrig'] },
];

async function rejectsWith(promise: Promise<unknown>, code: NomineError['code'], message: RegExp): Promise<NomineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NomineError, `expected a NomineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    assert.ok(error.part, 'the error names the part at fault');
    return error;
  }
  assert.fail('expected a rejection');
}

describe('archive image sources', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-sources-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: { name: string; make: (path: string) => Promise<{ layers: { diffId: string; digest: string; blob: Buffer }[] }>; source: (path: string) => ImageSource; names: string[] }[] = [
    { name: 'an OCI layout', make: (p) => writeOciLayout(p, { layers, refName: 'miner:1', compression: 'gzip' }), source: ociLayoutSource, names: ['miner:1'] },
    { name: 'an OCI archive', make: (p) => writeOciArchive(p, { layers, refName: 'miner:1', compression: 'zstd' }), source: ociArchiveSource, names: ['miner:1'] },
    { name: 'a legacy docker save archive', make: (p) => writeDockerArchive(p, { layers, repoTags: ['miner:1'] }), source: dockerArchiveSource, names: ['miner:1'] },
    { name: 'a docker 25+ save archive', make: (p) => writeDockerArchive(p, { layers, repoTags: ['miner:1'], format: 'oci' }), source: dockerArchiveSource, names: ['miner:1'] },
  ];

  for (const testCase of cases) {
    it(`reads ${testCase.name}: names, config, layers keyed by diff_id in order`, async () => {
      const path = join(dir, testCase.name.replace(/\W+/g, '-'));
      const built = await testCase.make(path);
      const image = await testCase.source(path).open(context);
      assert.deepEqual(image.names, testCase.names);
      assert.equal(image.config.architecture, 'amd64');
      assert.deepEqual(image.config.config?.Cmd, ['/bin/sh']);
      assert.deepEqual(image.layers.map((l) => l.key), built.layers.map((l) => l.diffId));
      assert.deepEqual(image.layers.map((l) => l.index), [0, 1, 2]);
      assert.ok(image.layers.every((l) => l.cacheable));
      const blobs = await readLayerBlobs(image);
      assert.deepEqual(blobs.map((b) => b.key).sort(), built.layers.map((l) => l.diffId).sort());
      for (const blob of blobs) assert.ok(blob.bytes.equals(built.layers[blob.index]!.blob), `layer ${blob.index} is delivered as stored`);
      await image.close();
    });

    it(`reads only the wanted layers of ${testCase.name}`, async () => {
      const path = join(dir, `${testCase.name.replace(/\W+/g, '-')}-wanted`);
      const built = await testCase.make(path);
      const image = await testCase.source(path).open(context);
      assert.deepEqual((await readLayerBlobs(image, new Set([built.layers[1]!.diffId]))).map((b) => b.index), [1]);
      assert.deepEqual(await readLayerBlobs(image, new Set()), []);
    });
  }

  it('chooses an image in an OCI layout by its ref annotation and reports unknown refs', async () => {
    const path = join(dir, 'by-ref');
    await writeOciLayout(path, { layers, refName: 'v1' });
    assert.deepEqual((await ociLayoutSource(`${path}:v1`).open(context)).names, ['v1']);
    await rejectsWith(ociLayoutSource(`${path}:v2`).open(context), 'not-found', /no image tagged v2 \(tags present: v1\)/);
  });

  it('chooses linux/amd64 from a multi-platform index', async () => {
    const path = join(dir, 'multi');
    const arm = await writeOciLayout(join(dir, 'multi-arm'), { layers: [layers[1]!], platform: 'linux/arm64' });
    const amd = await writeOciLayout(path, { layers, platform: 'linux/amd64' });
    // Put the arm64 image's blobs beside the amd64 one and list both in a nested index, as buildx does.
    await run('cp', ['-r', `${join(dir, 'multi-arm')}/blobs/.`, `${path}/blobs/`]);
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.manifestDigest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.manifestDigest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    await writeFile(join(path, 'blobs/sha256', sha256(nested).slice(7)), nested);
    await writeFile(
      join(path, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(nested), size: nested.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
    );
    const image = await ociLayoutSource(path).open(context);
    assert.equal(image.digest, amd.manifestDigest);
    assert.equal(image.layers.length, 3);
    const arm64 = await ociLayoutSource(path).open({ ...context, registry: { platform: 'linux/arm64' } });
    assert.equal(arm64.digest, arm.manifestDigest);
    await rejectsWith(ociLayoutSource(path).open({ ...context, registry: { platform: 'linux/s390x' } }), 'not-found', /no linux\/s390x image/);
  });

  it('chooses an image of a docker save archive by tag or @index', async () => {
    const path = join(dir, 'tags.tar');
    await writeDockerArchive(path, { layers, repoTags: ['docker.io/library/miner:1'] });
    assert.deepEqual((await dockerArchiveSource(`${path}:miner:1`).open(context)).names, ['docker.io/library/miner:1']);
    assert.deepEqual((await dockerArchiveSource(`${path}:@0`).open(context)).names, ['docker.io/library/miner:1']);
    await rejectsWith(dockerArchiveSource(`${path}:miner:2`).open(context), 'not-found', /no image tagged miner:2/);
  });

  describe('hostile and broken input', () => {
    it('refuses a file that is not a tar', async () => {
      const path = join(dir, 'not-a-tar');
      await writeFile(path, Buffer.alloc(4096, 0x41));
      await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /not a readable tar archive/);
      await rejectsWith(ociArchiveSource(path).open(context), 'invalid-input', /not a readable tar archive/);
    });

    it('refuses a truncated archive', async () => {
      const path = join(dir, 'whole.tar');
      await writeDockerArchive(path, { layers, repoTags: ['miner:1'] });
      const bytes = await readFile(path);
      await writeFile(join(dir, 'truncated.tar'), bytes.subarray(0, 3000));
      await rejectsWith(dockerArchiveSource(join(dir, 'truncated.tar')).open(context), 'invalid-input', /not a readable tar archive/);
    });

    it('refuses an archive with a corrupt header, naming the archive and the entry before it', async () => {
      const path = join(dir, 'bad-checksum.tar');
      await writeDockerArchive(path, { layers, repoTags: ['miner:1'] });
      const bytes = await readFile(path);
      bytes[512 * 3 + 10]! ^= 0xff; // the name of the second entry's header (after a directory and its VERSION file)
      await writeFile(path, bytes);
      const error = await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /not a readable tar archive: the tar header at byte 1536 \(after entry [0-9a-f]{64}\/VERSION\) is invalid/);
      assert.equal(error.part, `archive ${path}`);
    });

    it('refuses an archive holding the same document twice', async () => {
      const path = join(dir, 'twice.tar');
      await writeTar(path, [
        { name: 'manifest.json', content: Buffer.from('[]') },
        { name: './manifest.json', content: Buffer.from('[{"Config":"evil.json","Layers":[]}]') },
      ]);
      await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /archive holds manifest.json twice/);
    });

    it('refuses to stream layers from an archive that changed after it was indexed', async () => {
      const path = join(dir, 'changed.tar');
      await writeDockerArchive(path, { layers, repoTags: ['miner:1'] });
      const image = await dockerArchiveSource(path).open(context);
      await appendFile(path, Buffer.alloc(512));
      await rejectsWith(readLayerBlobs(image), 'invalid-input', /archive changed while being read/);
    });

    it('reports a missing archive as not found', async () => {
      await rejectsWith(dockerArchiveSource(join(dir, 'absent.tar')).open(context), 'not-found', /not found/);
      await rejectsWith(ociLayoutSource(join(dir, 'absent')).open(context), 'not-found', /no OCI layout directory/);
    });

    it('reports a docker archive without manifest.json', async () => {
      const path = join(dir, 'no-manifest.tar');
      await writeTar(path, [{ name: 'repositories', content: Buffer.from('{}') }]);
      await rejectsWith(dockerArchiveSource(path).open(context), 'not-found', /manifest.json is missing/);
    });

    it('reports invalid JSON in manifest.json', async () => {
      const path = join(dir, 'bad-json.tar');
      await writeTar(path, [{ name: 'manifest.json', content: Buffer.from('[{"Config": ') }]);
      const error = await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /manifest.json is not valid JSON/);
      assert.match(error.part!, /manifest.json/);
    });

    it('reports a manifest pointing at a missing layer', async () => {
      const path = join(dir, 'missing-layer.tar');
      const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256('x')] } }));
      await writeTar(path, [
        { name: 'config.json', content: config },
        { name: 'manifest.json', content: Buffer.from(JSON.stringify([{ Config: 'config.json', Layers: ['abc/layer.tar'] }])) },
      ]);
      await rejectsWith(dockerArchiveSource(path).open(context), 'not-found', /abc\/layer.tar is not in the archive/);
    });

    it('reports an OCI manifest pointing at a missing blob, naming the digest', async () => {
      const path = join(dir, 'missing-blob');
      const built = await writeOciLayout(path, { layers });
      await rm(join(path, 'blobs/sha256', built.layers[1]!.digest.slice(7)));
      const image = await ociLayoutSource(path).open(context);
      const error = await rejectsWith(readLayerBlobs(image), 'not-found', /is missing from the layout/);
      assert.match(error.message, new RegExp(built.layers[1]!.digest));
    });

    it('refuses an image whose layer count differs from its diff_ids', async () => {
      const path = join(dir, 'count.tar');
      const layer = await import('../../../test/helpers/image-builder.ts').then((m) => m.buildLayer(layers[0]!));
      const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256(layer), sha256('other')] } }));
      await writeTar(path, [
        { name: 'a/layer.tar', content: layer },
        { name: 'config.json', content: config },
        { name: 'manifest.json', content: Buffer.from(JSON.stringify([{ Config: 'config.json', Layers: ['a/layer.tar'] }])) },
      ]);
      await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /lists 2 diff_ids but the manifest lists 1 layers/);
    });

    it('refuses a JSON document bigger than limits.maxJsonBytes', async () => {
      const path = join(dir, 'big.tar');
      await writeDockerArchive(path, { layers, repoTags: ['miner:1'] });
      await rejectsWith(dockerArchiveSource(path).open({ limits: { ...defaultLimits, maxJsonBytes: 64 } }), 'limit-exceeded', /limits.maxJsonBytes/);
    });

    it('refuses entries that climb out of the archive with ..', async () => {
      const path = join(dir, 'dotdot.tar');
      await writeTar(path, [{ name: '../../etc/evil', content: Buffer.from('x') }, { name: 'manifest.json', content: Buffer.from('[]') }]);
      await rejectsWith(dockerArchiveSource(path).open(context), 'invalid-input', /climbs out of the archive/);
      const linkPath = join(dir, 'dotdot-link.tar');
      await writeTar(linkPath, [{ name: 'a/layer.tar', linkTarget: '../../../etc/passwd' }]);
      await rejectsWith(dockerArchiveSource(linkPath).open(context), 'invalid-input', /links outside the archive/);
    });

    it('never follows a symlinked blob out of an OCI layout', async () => {
      const path = join(dir, 'symlinked-blob');
      const built = await writeOciLayout(path, { layers });
      const blob = join(path, 'blobs/sha256', built.layers[0]!.digest.slice(7));
      await rm(blob);
      await symlink('/etc/passwd', blob);
      const image = await ociLayoutSource(path).open(context);
      await rejectsWith(readLayerBlobs(image), 'invalid-input', /not a regular file/);
    });

    it('fails a layer whose content does not match its digest, naming the digest', async () => {
      const path = join(dir, 'tampered');
      const built = await writeOciLayout(path, { layers, compression: 'gzip' });
      const digest = built.layers[0]!.digest;
      const tampered = Buffer.from(built.layers[0]!.blob);
      tampered[tampered.length - 5]! ^= 0xff;
      await writeFile(join(path, 'blobs/sha256', digest.slice(7)), tampered);
      const image = await ociLayoutSource(path).open(context);
      await rejectsWith(readLayerBlobs(image), 'invalid-input', new RegExp(`does not match its digest ${digest}`));
    });

    it('fails a tampered layer in a docker 25+ archive while it streams', async () => {
      const path = join(dir, 'tampered-docker.tar');
      const tamperedLayer = { blob: gzipSync('not the layer'), diffId: sha256('nope'), digest: sha256('nope'), mediaType: 'x', size: 0 };
      const built = await writeDockerArchive(path, { layers: [tamperedLayer], format: 'oci' });
      const image = await dockerArchiveSource(path).open(context);
      await rejectsWith(readLayerBlobs(image), 'invalid-input', new RegExp(`does not match its digest ${built.layers[0]!.digest}`));
    });

    it('refuses a descriptor declaring an absurd size', async () => {
      const path = join(dir, 'absurd');
      await writeOciLayout(path, { layers });
      const index = JSON.parse(await readFile(join(path, 'index.json'), 'utf8'));
      index.manifests[0].size = 2 ** 60;
      await writeFile(join(path, 'index.json'), JSON.stringify(index));
      await rejectsWith(ociLayoutSource(path).open(context), 'invalid-input', /index.json is malformed/);
      index.manifests[0].size = 1e9;
      await writeFile(join(path, 'index.json'), JSON.stringify(index));
      await rejectsWith(ociLayoutSource(path).open(context), 'limit-exceeded', /maxJsonBytes/);
    });

    it('reports a directory without oci-layout as not an OCI layout', async () => {
      await mkdir(join(dir, 'empty-dir'), { recursive: true });
      await rejectsWith(ociLayoutSource(join(dir, 'empty-dir')).open(context), 'not-found', /oci-layout is missing/);
    });
  });

  describe('images written by real tools', () => {
    const name = 'nomine-test/sources:1';
    let skip: string | false = false;
    before(async () => {
      skip = await dockerUnavailable();
      if (skip) return;
      await busyboxRootfs(join(dir, 'real-root'));
      await tarDirectory(join(dir, 'real-root'), join(dir, 'real-root.tar'));
      await dockerImport(join(dir, 'real-root.tar'), 'nomine-test/sources-base:1', { cmd: ['/bin/sh'] });
      await mkdir(join(dir, 'ctx'));
      await writeFile(join(dir, 'ctx/Dockerfile'), 'FROM nomine-test/sources-base:1\nCOPY a /a\nCOPY b /b\n');
      await writeFile(join(dir, 'ctx/a'), 'a');
      await writeFile(join(dir, 'ctx/b'), 'b');
      await run('docker', ['build', '-q', '-t', name, join(dir, 'ctx')], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    });
    after(async () => {
      if (skip) return;
      await removeImage(name);
      await removeImage('nomine-test/sources-base:1');
    });

    async function diffIds(): Promise<string[]> {
      const { stdout } = await run('docker', ['image', 'inspect', name, '--format', '{{json .RootFS.Layers}}']);
      return JSON.parse(stdout);
    }

    it('reads `docker save` output', async (t) => {
      if (skip) return t.skip(skip);
      await run('docker', ['save', '-o', join(dir, 'saved.tar'), name]);
      const image = await dockerArchiveSource(join(dir, 'saved.tar')).open(context);
      assert.deepEqual(image.names, [name]);
      assert.deepEqual(image.layers.map((l) => l.key), await diffIds());
      const blobs = await readLayerBlobs(image);
      assert.equal(blobs.length, 3);
      const base = blobs.find((b) => b.index === 0)!;
      assert.ok((await listTarEntries(base.bytes)).includes('./bin/busybox'));
    });

    for (const [transport, source] of [['oci', ociLayoutSource], ['oci-archive', ociArchiveSource], ['docker-archive', dockerArchiveSource]] as const) {
      it(`reads what skopeo copies to ${transport}:`, async (t) => {
        if (skip) return t.skip(skip);
        const path = join(dir, `skopeo-${transport}`);
        const destination = transport === 'docker-archive' ? `${transport}:${path}:${name}` : `${transport}:${path}:v1`;
        await run('skopeo', ['copy', '-q', `docker-daemon:${name}`, destination]);
        const image = await source(transport === 'docker-archive' ? path : `${path}:v1`).open(context);
        assert.deepEqual(image.layers.map((l) => l.key), await diffIds());
        assert.equal((await readLayerBlobs(image)).length, 3);
        assert.ok(image.names.length > 0);
      });
    }
  });
});
