/**
 * The docker:// source against hostile or broken servers (node:http on 127.0.0.1): each answer a real registry
 * should never give must end in a NomineError with the right code and part, within the configured bounds.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { isNomineError, type NomineError } from '../../core/errors.ts';
import { defaultLimits, type Limits } from '../../platform/limits.ts';
import type { SourceContext } from '../image-source.ts';
import { listRegistryImages, registrySource } from './registry.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A well-formed one-layer image; tests break one piece of it. */
function image(layer = Buffer.from('layer bytes, as stored')) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('uncompressed')] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  return { config, manifest, layer, layerDigest: sha256(layer) };
}

/** Serves `image()` at /v2/app, letting `override` answer first (return true when it did). */
function registryHandler(parts = image(), override?: (req: IncomingMessage, res: ServerResponse) => boolean, servedLayer = parts.layer): Handler {
  return (req, res) => {
    if (override?.(req, res)) return;
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url === '/v2/app/manifests/1') return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(parts.manifest);
    if (url === `/v2/app/blobs/${sha256(parts.config)}`) return void res.writeHead(200).end(parts.config);
    if (url === `/v2/app/blobs/${parts.layerDigest}`) return void res.writeHead(200).end(servedLayer);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
  };
}

function contextWith(limits: Partial<Limits> = {}, extra: Partial<SourceContext> = {}): SourceContext {
  return { limits: { ...defaultLimits, ...limits }, ...extra };
}

async function rejectsWith(promise: Promise<unknown>, code: NomineError['code'], pattern?: RegExp): Promise<NomineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isNomineError(error), `expected a NomineError, got ${String(error)}`);
    assert.equal(error.code, code, error.describe());
    if (pattern) assert.match(error.describe(), pattern);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('registry source against hostile servers', () => {
  it('reads a well-formed image from a minimal server (the baseline the other cases break)', async () => {
    const parts = image();
    const host = await serve(registryHandler(parts));
    const opened = await registrySource(`//${host}/app:1`).open(contextWith());
    assert.equal(opened.digest, sha256(parts.manifest));
    let blob: Buffer = Buffer.alloc(0);
    await opened.readLayers(new Set(opened.layers.map((layer) => layer.key)), async (_layer, stream) => void (blob = await drain(stream)));
    await opened.close();
    assert.deepEqual(blob, parts.layer);
  });

  it('reports a 500 as unreachable with the status', async () => {
    const host = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(500).end('boom'), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'unreachable', /manifest app:1: .*answered 500/);
  });

  it('reports a 403 as forbidden', async () => {
    const host = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(403).end(), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'forbidden');
  });

  it('reports a 401 without credentials as unauthorized, saying none were given', async () => {
    const host = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end());
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'unauthorized', new RegExp(`registry ${host}: .*none were given`));
  });

  it('reports a refused connection as unreachable', async () => {
    const host = await serve(() => undefined);
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'unreachable', /ECONNREFUSED/);
  });

  it('gives up on a server that never answers after httpTimeoutMs', async () => {
    const host = await serve(() => undefined);
    const started = Date.now();
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith({ httpTimeoutMs: 300 })), 'timeout', new RegExp(`registry ${host}`));
    assert.ok(Date.now() - started < 5_000);
  });

  it('gives up on a layer that stalls mid-body after httpIdleTimeoutMs', async () => {
    const parts = image(Buffer.alloc(64 * 1024, 1));
    const host = await serve(
      registryHandler(parts, (req, res) => {
        if (req.url !== `/v2/app/blobs/${parts.layerDigest}`) return false;
        res.writeHead(200, { 'content-length': String(parts.layer.length) });
        res.write(parts.layer.subarray(0, 1024));
        return true;
      }),
    );
    const opened = await registrySource(`//${host}/app:1`).open(contextWith({ httpIdleTimeoutMs: 300 }));
    await rejectsWith(opened.readLayers(new Set([opened.layers[0]!.key]), (_layer, stream) => drain(stream).then(() => undefined)), 'timeout', /blob sha256:/);
    await opened.close();
  });

  it('honours an aborted signal', async () => {
    const host = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 100);
    await assert.rejects(registrySource(`//${host}/app:1`).open(contextWith({}, { signal: controller.signal })), /user cancelled/);
  });

  it('refuses a manifest that is not JSON as invalid-input', async () => {
    const host = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('<html>garbage'), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'invalid-input', /not valid JSON/);
  });

  it('refuses a manifest whose JSON has the wrong shape', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: 'nope' });
    const host = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200).end(body), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'invalid-input', /malformed/);
  });

  it('refuses artifacts that are not container images and schema 1 manifests', async () => {
    const helm = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256('x'), size: 1 },
      layers: [],
    });
    const helmHost = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200).end(helm), true) : false)));
    await rejectsWith(registrySource(`//${helmHost}/app:1`).open(contextWith()), 'invalid-input', /not a container image/);
    const v1Host = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200).end(JSON.stringify({ schemaVersion: 1, name: 'app' })), true) : false)));
    await rejectsWith(registrySource(`//${v1Host}/app:1`).open(contextWith()), 'unsupported', /schema 1/);
  });

  it('refuses an oversized manifest, declared or streamed without a length', async () => {
    const big = JSON.stringify({ schemaVersion: 2, padding: 'x'.repeat(8192) });
    const declared = await serve(registryHandler(image(), (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200, { 'content-length': String(big.length) }).end(big), true) : false)));
    await rejectsWith(registrySource(`//${declared}/app:1`).open(contextWith({ maxJsonBytes: 1024 })), 'limit-exceeded', /maxJsonBytes/);
    const chunked = await serve(
      registryHandler(image(), (req, res) => {
        if (!req.url?.includes('/manifests/')) return false;
        res.writeHead(200);
        for (let i = 0; i < 16; i++) res.write(big.slice(i * 512, (i + 1) * 512));
        res.end();
        return true;
      }),
    );
    await rejectsWith(registrySource(`//${chunked}/app:1`).open(contextWith({ maxJsonBytes: 1024 })), 'limit-exceeded', /maxJsonBytes/);
  });

  it('refuses a manifest whose bytes differ from the digest the registry claims', async () => {
    const parts = image();
    const host = await serve(registryHandler(parts, (req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200, { 'docker-content-digest': sha256('other') }).end(parts.manifest), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'invalid-input', /does not match its digest/);
  });

  it('refuses a config blob that does not match its digest', async () => {
    const parts = image();
    const host = await serve(registryHandler(parts, (req, res) => (req.url === `/v2/app/blobs/${sha256(parts.config)}` ? (res.writeHead(200).end('{"os":"linux"}'), true) : false)));
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith()), 'invalid-input', new RegExp(`blob ${sha256(parts.config)}`));
  });

  it('fails a layer whose bytes do not match its digest, naming the digest, even if the consumer ignores the stream error', async () => {
    const parts = image();
    const tampered = Buffer.from(parts.layer);
    tampered[0] = tampered[0]! ^ 0xff;
    const host = await serve(registryHandler(parts, undefined, tampered));
    const opened = await registrySource(`//${host}/app:1`).open(contextWith());
    const wanted = new Set([opened.layers[0]!.key]);
    await rejectsWith(opened.readLayers(wanted, (_layer, stream) => drain(stream).then(() => undefined)), 'invalid-input', new RegExp(`blob ${parts.layerDigest}`));
    await rejectsWith(
      opened.readLayers(wanted, (_layer, stream) => drain(stream).then(() => undefined, () => undefined)),
      'invalid-input',
      new RegExp(parts.layerDigest),
    );
    await opened.close();
  });

  it('follows a blob redirect to another origin without sending the registry credentials there', async () => {
    const parts = image();
    let storageAuthorization: string | undefined = 'not called';
    const storage = await serve((req, res) => {
      storageAuthorization = req.headers.authorization;
      res.writeHead(200).end(parts.layer);
    });
    const host = await serve(
      registryHandler(parts, (req, res) => {
        if (!req.headers.authorization) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(), true;
        if (req.url !== `/v2/app/blobs/${parts.layerDigest}`) return false;
        res.writeHead(307, { location: `http://${storage}/blob?signature=abc` }).end();
        return true;
      }),
    );
    const opened = await registrySource(`//${host}/app:1`).open(contextWith({}, { registry: { username: 'u', password: 'p' } }));
    let blob: Buffer = Buffer.alloc(0);
    await opened.readLayers(new Set([opened.layers[0]!.key]), async (_layer, stream) => void (blob = await drain(stream)));
    await opened.close();
    assert.deepEqual(blob, parts.layer);
    assert.equal(storageAuthorization, undefined);
  });

  it('stops a redirect loop', async () => {
    const parts = image();
    const host = await serve(registryHandler(parts, (req, res) => (req.url === `/v2/app/blobs/${parts.layerDigest}` ? (res.writeHead(307, { location: req.url }).end(), true) : false)));
    const opened = await registrySource(`//${host}/app:1`).open(contextWith());
    await rejectsWith(opened.readLayers(new Set([opened.layers[0]!.key]), async () => undefined), 'invalid-input', /more than 5 redirects/);
    await opened.close();
  });

  it('answers a bearer challenge with a token for the scope the challenge names, then retries once', async () => {
    const parts = image();
    const tokenRequests: URL[] = [];
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    const tokenHost = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://t');
      tokenRequests.push(url);
      if (req.headers.authorization !== basic) return void res.writeHead(401).end();
      // The root token opens /v2/ only; repository calls need a token minted for their scope.
      const token = url.searchParams.get('scope') === 'repository:app:pull' ? 'tok-app' : 'tok-root';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token }));
    });
    const host = await serve(
      registryHandler(parts, (req, res) => {
        const needed = req.url === '/v2/' ? 'Bearer tok-root' : 'Bearer tok-app';
        if (req.headers.authorization === needed) return false;
        const scope = req.url === '/v2/' ? '' : ',scope="repository:app:pull"';
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="fake"${scope}` }).end();
        return true;
      }),
    );
    const opened = await registrySource(`//${host}/app:1`).open(contextWith({}, { registry: { username: 'u', password: 'p' } }));
    await opened.close();
    assert.deepEqual(
      tokenRequests.map((url) => [url.searchParams.get('service'), url.searchParams.get('scope')]),
      [['fake', null], ['fake', 'repository:app:pull']],
      'one token for the root, one for the repository, reused for the config blob',
    );
  });

  it('reports unauthorized when the bearer token is refused again after the retry', async () => {
    const tokenHost = await serve((_req, res) => res.writeHead(200).end(JSON.stringify({ token: 'useless' })));
    const host = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="fake"` }).end());
    await rejectsWith(registrySource(`//${host}/app:1`).open(contextWith({}, { registry: { username: 'u', password: 'p' } })), 'unauthorized', /rejected the credentials/);
  });

  it('stops a catalog whose next link loops back', async () => {
    const host = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      if (req.url?.startsWith('/v2/_catalog')) return void res.writeHead(200, { link: '</v2/_catalog?n=1&last=a>; rel="next"' }).end('{"repositories":["a"]}');
      res.writeHead(200).end('{"name":"a","tags":[]}');
    });
    await rejectsWith(
      (async () => {
        for await (const _ of listRegistryImages(host, contextWith(), { pageSize: 1 })) void _;
      })(),
      'invalid-input',
      /loops/,
    );
  });

  it('follows tag-list pagination', async () => {
    const host = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      if (req.url === '/v2/app/tags/list?n=1') return void res.writeHead(200, { link: '</v2/app/tags/list?n=1&last=a>; rel="next"' }).end('{"name":"app","tags":["a"]}');
      if (req.url === '/v2/app/tags/list?n=1&last=a') return void res.writeHead(200).end('{"name":"app","tags":["b"]}');
      res.writeHead(404).end();
    });
    const references: string[] = [];
    for await (const reference of listRegistryImages(`${host}/app`, contextWith(), { pageSize: 1 })) references.push(reference);
    assert.deepEqual(references, [`docker://${host}/app:a`, `docker://${host}/app:b`]);
  });
});
