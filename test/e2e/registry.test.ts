/**
 * The docker:// source and registry listing against Debian's docker-registry on 127.0.0.1: images built with
 * `docker import` of a busybox rootfs, pushed with skopeo (gzip, zstd) or through the registry's upload API (a
 * second platform and an OCI index), served anonymously, behind htpasswd basic auth and behind token auth.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decompress as zstdDecompress } from 'fzstd';
import { isNomineError, type NomineError } from '../../src/core/errors.ts';
import { defaultLimits } from '../../src/platform/limits.ts';
import type { LayerDescriptor, OpenedImage, SourceContext } from '../../src/scan/image-source.ts';
import { listRegistryImages, registrySource } from '../../src/scan/sources/registry.ts';
import { startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';
import { startTokenServer, type TokenServer } from '../helpers/registry-token-server.ts';

// Async on purpose: the token server runs in this process, and skopeo must reach it while we wait.
const run = promisify(execFile);
const context: SourceContext = { limits: defaultLimits };

const ociManifestType = 'application/vnd.oci.image.manifest.v1+json';
const ociIndexType = 'application/vnd.oci.image.index.v1+json';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Opens, reads every layer into memory, closes. */
async function pull(reference: string, ctx: SourceContext = context): Promise<{ image: OpenedImage; blobs: Map<string, Buffer> }> {
  const image = await registrySource(reference).open(ctx);
  const blobs = new Map<string, Buffer>();
  try {
    await image.readLayers(new Set(image.layers.map((layer) => layer.key)), async (layer: LayerDescriptor, blob) => {
      blobs.set(layer.key, await collect(blob));
    });
  } finally {
    await image.close();
  }
  return { image, blobs };
}

async function rejectsWith(promise: Promise<unknown>, code: NomineError['code'], message?: RegExp): Promise<NomineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isNomineError(error), `expected a NomineError, got ${String(error)}`);
    assert.equal(error.code, code, error.describe());
    if (message) assert.match(error.describe(), message);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

/** Minimal client for the upload API, to push what skopeo 1.9 cannot build (a second platform, an index). */
async function pushBlob(host: string, repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, await start.text());
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

async function pushManifest(host: string, repository: string, reference: string, mediaType: string, document: unknown): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(document));
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
  assert.equal(response.status, 201, await response.text());
  return { digest: sha256(bytes), size: bytes.length };
}

describe('registry source against a real docker-registry', { timeout: 180_000 }, () => {
  let work: string;
  let imageTag: string;
  let diffId: string;
  let anonymous: RegistryServer;
  let gzipDigest: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'nomine-e2e-registry-'));
    const rootfs = join(work, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
    await writeFile(join(rootfs, 'etc/nomine-e2e'), randomBytes(16).toString('hex'));
    await run('tar', ['-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.']);
    imageTag = `nomine-e2e-registry:${randomBytes(4).toString('hex')}`;
    await run('docker', ['import', join(work, 'rootfs.tar'), imageTag]);
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{index .RootFS.Layers 0}}', imageTag]);
    diffId = stdout.trim();

    anonymous = await startRegistryServer();
    const digestFile = join(work, 'gzip.digest');
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--digestfile', digestFile, `docker-daemon:${imageTag}`, `docker://${anonymous.host}/e2e/busybox:gzip`]);
    gzipDigest = (await readFile(digestFile, 'utf8')).trim();
    // skopeo 1.9 reuses the gzip blob it already pushed unless the zstd one comes from a layout with preserved digests.
    await run('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `docker-daemon:${imageTag}`, `oci:${join(work, 'zstd-layout')}:zstd`]);
    await run('skopeo', ['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'zstd-layout')}:zstd`, `docker://${anonymous.host}/e2e/busybox:zstd`]);
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-daemon:${imageTag}`, `docker://${anonymous.host}/e2e/tools:1.0`]);
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-daemon:${imageTag}`, `docker://${anonymous.host}/e2e/tools:2.0`]);
  });

  after(async () => {
    await anonymous?.stop();
    if (imageTag) await run('docker', ['rmi', imageTag]).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opens a gzip image anonymously, with the diff_id as cache key and the manifest digest skopeo reported', async () => {
    const { image, blobs } = await pull(`//${anonymous.host}/e2e/busybox:gzip`);
    assert.deepEqual(image.names, [`${anonymous.host}/e2e/busybox:gzip`]);
    assert.equal(image.digest, gzipDigest);
    assert.equal(image.ref, `docker://${anonymous.host}/e2e/busybox:gzip`);
    assert.equal(image.config.architecture, 'amd64');
    assert.equal(image.layers.length, 1);
    const [layer] = image.layers;
    assert.equal(layer?.key, diffId);
    assert.equal(layer?.cacheable, true);
    assert.equal(layer?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const blob = blobs.get(diffId);
    assert.ok(blob);
    assert.equal(sha256(blob), layer?.digest, 'the blob streamed hashes to its digest');
    assert.equal(blob.length, layer?.size);
    assert.equal(sha256(gunzipSync(blob)), diffId, 'and uncompresses to its diff_id');
  });

  it('accepts the reference without the leading slashes and pinned by digest', async () => {
    const { image } = await pull(`${anonymous.host}/e2e/busybox@${gzipDigest}`);
    assert.equal(image.digest, gzipDigest);
    assert.deepEqual(image.names, [`${anonymous.host}/e2e/busybox@${gzipDigest}`]);
  });

  it('streams a zstd layer as stored, naming its media type', async () => {
    const { image, blobs } = await pull(`//${anonymous.host}/e2e/busybox:zstd`);
    const [layer] = image.layers;
    assert.equal(layer?.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const blob = blobs.get(diffId);
    assert.ok(blob);
    assert.equal(blob.subarray(0, 4).toString('hex'), '28b52ffd', 'zstd magic');
    assert.equal(sha256(blob), layer?.digest);
    assert.equal(sha256(zstdDecompress(blob)), diffId);
  });

  it('streams only the layers the scanner still wants', async () => {
    const image = await registrySource(`//${anonymous.host}/e2e/busybox:gzip`).open(context);
    let calls = 0;
    await image.readLayers(new Set(['sha256:' + '0'.repeat(64)]), async () => void calls++);
    await image.close();
    assert.equal(calls, 0);
  });

  describe('a multi-platform index', () => {
    before(async () => {
      // amd64 from skopeo, arm64/v8 built by hand over the same layer, then an OCI index over both.
      await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--format', 'oci', `docker-daemon:${imageTag}`, `docker://${anonymous.host}/e2e/multi:amd64`]);
      const amd64 = await fetch(`http://${anonymous.host}/v2/e2e/multi/manifests/amd64`, { headers: { accept: ociManifestType } });
      const amd64Bytes = Buffer.from(await amd64.arrayBuffer());
      const amd64Manifest = JSON.parse(amd64Bytes.toString('utf8')) as { layers: unknown[] };
      const config = Buffer.from(JSON.stringify({ architecture: 'arm64', variant: 'v8', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }));
      const configDigest = await pushBlob(anonymous.host, 'e2e/multi', config);
      const arm64 = await pushManifest(anonymous.host, 'e2e/multi', 'arm64', ociManifestType, {
        schemaVersion: 2,
        mediaType: ociManifestType,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: amd64Manifest.layers,
      });
      await pushManifest(anonymous.host, 'e2e/multi', 'latest', ociIndexType, {
        schemaVersion: 2,
        mediaType: ociIndexType,
        manifests: [
          { mediaType: ociManifestType, digest: sha256(amd64Bytes), size: amd64Bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: ociManifestType, ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      });
    });

    it('chooses linux/amd64 by default', async () => {
      const { image } = await pull(`//${anonymous.host}/e2e/multi:latest`);
      assert.equal(image.config.architecture, 'amd64');
    });

    it('chooses the platform asked for, with or without its variant', async () => {
      for (const platform of ['linux/arm64', 'linux/arm64/v8']) {
        const { image, blobs } = await pull(`//${anonymous.host}/e2e/multi:latest`, { ...context, registry: { platform } });
        assert.equal(image.config.architecture, 'arm64', platform);
        assert.equal(sha256(blobs.get(diffId) ?? Buffer.alloc(0)), image.layers[0]?.digest);
      }
    });

    it('says which platforms exist when none matches', async () => {
      await rejectsWith(
        registrySource(`//${anonymous.host}/e2e/multi:latest`).open({ ...context, registry: { platform: 'linux/s390x' } }),
        'not-found',
        /linux\/s390x.*linux\/amd64, linux\/arm64\/v8/,
      );
    });
  });

  it('reports a missing repository and a missing tag as not-found, naming them', async () => {
    await rejectsWith(registrySource(`//${anonymous.host}/e2e/nothing:1`).open(context), 'not-found', /manifest e2e\/nothing:1.*repository e2e\/nothing/);
    await rejectsWith(registrySource(`//${anonymous.host}/e2e/busybox:missing`).open(context), 'not-found', /tag missing of repository e2e\/busybox/);
  });

  it('lists every repository and tag of the registry through one-entry pages', async () => {
    const references: string[] = [];
    for await (const reference of listRegistryImages(anonymous.host, context, { pageSize: 1 })) references.push(reference);
    const expected = ['e2e/busybox:gzip', 'e2e/busybox:zstd', 'e2e/tools:1.0', 'e2e/tools:2.0'].map((name) => `docker://${anonymous.host}/${name}`);
    for (const reference of expected) assert.ok(references.includes(reference), `${reference} in ${references.join(' ')}`);
    assert.equal(new Set(references).size, references.length, 'no duplicates');
    // Every listed reference opens with the source.
    await (await registrySource(expected[2]!.slice('docker:'.length)).open(context)).close();
  });

  it('lists one repository\'s tags when given HOST/REPO', async () => {
    const references: string[] = [];
    for await (const reference of listRegistryImages(`${anonymous.host}/e2e/tools`, context, { pageSize: 1 })) references.push(reference);
    // distribution 2.8 returns tags in storage order (and ignores `n` on tag lists); the set is what counts.
    assert.deepEqual(references.sort(), [`docker://${anonymous.host}/e2e/tools:1.0`, `docker://${anonymous.host}/e2e/tools:2.0`]);
  });

  it('stops at maxRegistryTags and says so instead of dropping tags silently', async () => {
    const limited: SourceContext = { limits: { ...defaultLimits, maxRegistryTags: 1 } };
    const seen: string[] = [];
    await rejectsWith(
      (async () => {
        for await (const reference of listRegistryImages(`${anonymous.host}/e2e/tools`, limited)) seen.push(reference);
      })(),
      'limit-exceeded',
      /more than 1 tags/,
    );
    assert.equal(seen.length, 1);
    const notices: string[] = [];
    for await (const reference of listRegistryImages(`${anonymous.host}/e2e/tools`, limited, { onNotice: (notice) => notices.push(notice.message) })) seen.push(reference);
    assert.equal(notices.length, 1);
  });
});

describe('registry source behind htpasswd basic auth', { timeout: 120_000 }, () => {
  let registry: RegistryServer;
  let work: string;
  const credentials = { username: 'alice', password: 'correct horse' };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'nomine-e2e-basic-'));
    registry = await startRegistryServer({ htpasswd: credentials });
    // An OCI layout made by skopeo from a busybox rootfs tarball, so this suite needs no docker image of its own.
    await mkdir(join(work, 'rootfs/bin'), { recursive: true });
    await copyFile('/bin/busybox', join(work, 'rootfs/bin/busybox'));
    await run('tar', ['-C', join(work, 'rootfs'), '-czf', join(work, 'layer.tar.gz'), '.']);
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `${credentials.username}:${credentials.password}`, `tarball:${join(work, 'layer.tar.gz')}`, `docker://${registry.host}/private/app:1`]);
  });

  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pulls with the right password and the layer hashes to its digest', async () => {
    const { image, blobs } = await pull(`//${registry.host}/private/app:1`, { ...context, registry: credentials });
    assert.equal(sha256(blobs.get(image.layers[0]!.key)!), image.layers[0]?.digest);
  });

  it('takes credentials from NOMINE_REGISTRY_USERNAME and NOMINE_REGISTRY_PASSWORD', async () => {
    process.env.NOMINE_REGISTRY_USERNAME = credentials.username;
    process.env.NOMINE_REGISTRY_PASSWORD = credentials.password;
    try {
      const { image } = await pull(`//${registry.host}/private/app:1`);
      assert.equal(image.layers.length, 1);
    } finally {
      delete process.env.NOMINE_REGISTRY_USERNAME;
      delete process.env.NOMINE_REGISTRY_PASSWORD;
    }
  });

  it('is unauthorized without credentials, and says none were given', async () => {
    await rejectsWith(registrySource(`//${registry.host}/private/app:1`).open(context), 'unauthorized', /registry 127\.0\.0\.1:\d+: .*none were given/);
  });

  it('is unauthorized with a wrong password, and says the credentials were rejected', async () => {
    await rejectsWith(
      registrySource(`//${registry.host}/private/app:1`).open({ ...context, registry: { username: 'alice', password: 'wrong' } }),
      'unauthorized',
      /rejected the credentials/,
    );
  });

  it('lists the registry with credentials', async () => {
    const references: string[] = [];
    for await (const reference of listRegistryImages(registry.host, { ...context, registry: credentials })) references.push(reference);
    assert.deepEqual(references, [`docker://${registry.host}/private/app:1`]);
  });
});

describe('registry source behind token auth', { timeout: 120_000 }, () => {
  let tokens: TokenServer;
  let registry: RegistryServer;
  let work: string;
  const service = 'nomine-test-registry';

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'nomine-e2e-token-'));
    tokens = await startTokenServer({ service, issuer: 'nomine-test-issuer', users: { bob: 'hunter2' } });
    registry = await startRegistryServer({ token: { realm: tokens.realm, service, issuer: 'nomine-test-issuer', rootCertBundle: tokens.certPath } });
    await mkdir(join(work, 'rootfs/bin'), { recursive: true });
    await copyFile('/bin/busybox', join(work, 'rootfs/bin/busybox'));
    await run('tar', ['-C', join(work, 'rootfs'), '-czf', join(work, 'layer.tar.gz'), '.']);
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'bob:hunter2', `tarball:${join(work, 'layer.tar.gz')}`, `docker://${registry.host}/team/app:1`]);
  });

  after(async () => {
    await registry?.stop();
    await tokens?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('obtains a token for the repository scope with basic credentials and pulls', async () => {
    tokens.requests.length = 0;
    const { image, blobs } = await pull(`//${registry.host}/team/app:1`, { ...context, registry: { username: 'bob', password: 'hunter2' } });
    assert.equal(sha256(blobs.get(image.layers[0]!.key)!), image.layers[0]?.digest);
    assert.ok(tokens.requests.some((request) => request.authenticated && request.scopes.includes('repository:team/app:pull')), JSON.stringify(tokens.requests));
  });

  it('is unauthorized when the anonymous token grants nothing', async () => {
    await rejectsWith(registrySource(`//${registry.host}/team/app:1`).open(context), 'unauthorized', /none were given/);
  });

  it('is unauthorized when the token service rejects the password', async () => {
    await rejectsWith(registrySource(`//${registry.host}/team/app:1`).open({ ...context, registry: { username: 'bob', password: 'nope' } }), 'unauthorized', /rejected/);
  });

  it('lists the catalog with a registry:catalog:* token', async () => {
    const references: string[] = [];
    for await (const reference of listRegistryImages(registry.host, { ...context, registry: { username: 'bob', password: 'hunter2' } })) references.push(reference);
    assert.deepEqual(references, [`docker://${registry.host}/team/app:1`]);
  });
});
