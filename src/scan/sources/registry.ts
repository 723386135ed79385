/**
 * The docker:// image source: pulls an image from a Docker Registry v2 / OCI distribution endpoint without a
 * daemon. Resolves tag → manifest (choosing a platform from an index), checks the config against its digest, and
 * streams each wanted layer blob as stored, verifying its digest while it flows.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NomineError } from '../../core/errors.ts';
import type { ImageSource, LayerDescriptor, OpenedImage, SourceContext } from '../image-source.ts';
import { resolveCredentials } from './registry-auth.ts';
import { RegistryClient, repositoryScope } from './registry-client.ts';
import { createDigestVerifier, verifyBytes } from './digest-verifier.ts';
import { toRegistryNetworkError } from './registry-http.ts';
import { parseImageConfig } from './registry-image-config.ts';
import { assertContainerImage, manifestAccept, parseManifest, parsePlatform, selectPlatform, type Descriptor, type ImageManifest } from './registry-manifest.ts';
import { formatImageName, manifestReference, parseRegistryReference, registryBaseUrl, type RegistryReference } from './registry-reference.ts';

/** An index may point to another index (rare, but legal); more nesting than this is a loop or an attack. */
const maxIndexDepth = 2;

/** `reference` is what follows `docker:` — `//HOST[:PORT]/REPO[:TAG|@DIGEST]`, the leading `//` optional. */
export function registrySource(reference: string): ImageSource {
  const parsed = parseRegistryReference(reference);
  const ref = `docker:${reference}`;
  return { transport: 'docker', ref, open: (context) => openRegistryImage(parsed, ref, context) };
}

interface ResolvedManifest {
  manifest: ImageManifest;
  digest: string;
}

async function openRegistryImage(reference: RegistryReference, ref: string, context: SourceContext): Promise<OpenedImage> {
  const credentials = resolveCredentials(context.registry);
  const client = new RegistryClient({
    baseUrl: registryBaseUrl(reference.endpointHost, context.registry?.insecure),
    registry: reference.registry,
    ...(credentials ? { credentials } : {}),
    limits: context.limits,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  try {
    await client.ping();
    const { manifest, digest } = await resolveManifest(client, reference, context);
    const manifestPart = `manifest ${reference.repository}:${manifestReference(reference)}`;
    assertContainerImage(manifest, manifestPart);
    const config = await fetchConfig(client, reference.repository, manifest.config, context);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new NomineError('invalid-input', `the manifest lists ${manifest.layers.length} layers but the config names ${diffIds.length} diff_ids`, manifestPart);
    }
    const layers: LayerDescriptor[] = manifest.layers.map((layer, index) => ({
      index,
      key: diffIds[index] as string,
      cacheable: true,
      digest: layer.digest,
      diffId: diffIds[index] as string,
      mediaType: layer.mediaType,
      size: layer.size,
    }));
    const name = formatImageName(reference);
    return {
      ref,
      names: reference.registry === 'docker.io' ? [name, name.slice('docker.io/'.length)] : [name],
      digest,
      config,
      layers,
      readLayers: (wanted, onLayer) => readLayers(client, reference.repository, layers, wanted, onLayer, context.signal),
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** Follows tag → (index → platform manifest), verifying every document against the digest that named it. */
async function resolveManifest(client: RegistryClient, reference: RegistryReference, context: SourceContext): Promise<ResolvedManifest> {
  const wanted = parsePlatform(context.registry?.platform);
  let target = manifestReference(reference);
  let expectedDigest = reference.digest;
  for (let depth = 0; ; depth++) {
    const part = `manifest ${reference.repository}:${target}`;
    const document = await client.fetchDocument({
      path: `/v2/${reference.repository}/manifests/${target}`,
      scope: repositoryScope(reference.repository),
      part,
      subject: expectedDigest && target === expectedDigest ? `manifest ${target} of repository ${reference.repository}` : `tag ${target} of repository ${reference.repository}`,
      accept: manifestAccept,
    });
    // By digest we check what we asked for; by tag we check the registry's own claim when it makes one.
    const claimed = expectedDigest ?? document.digest;
    if (claimed) verifyBytes(document.bytes, { digest: claimed, part });
    const digest = claimed ?? `sha256:${createHash('sha256').update(document.bytes).digest('hex')}`;
    const parsed = parseManifest(document.bytes, document.contentType, part);
    if (parsed.kind === 'image') return { manifest: parsed.manifest, digest };
    if (depth >= maxIndexDepth) throw new NomineError('invalid-input', `image indexes nest deeper than ${maxIndexDepth} levels`, part);
    const chosen = selectPlatform(parsed.index, wanted, part);
    target = chosen.digest;
    expectedDigest = chosen.digest;
  }
}

async function fetchConfig(client: RegistryClient, repository: string, descriptor: Descriptor, context: SourceContext) {
  const part = `blob ${descriptor.digest}`;
  if (descriptor.size > context.limits.maxJsonBytes) {
    throw new NomineError('limit-exceeded', `the image config declares ${descriptor.size} bytes, more than limits.maxJsonBytes (${context.limits.maxJsonBytes})`, part);
  }
  const document = await client.fetchDocument({
    path: `/v2/${repository}/blobs/${descriptor.digest}`,
    scope: repositoryScope(repository),
    part,
    subject: `config blob ${descriptor.digest} of repository ${repository}`,
  });
  verifyBytes(document.bytes, { digest: descriptor.digest, size: descriptor.size, part });
  return parseImageConfig(document.bytes, part);
}

async function readLayers(
  client: RegistryClient,
  repository: string,
  layers: LayerDescriptor[],
  wanted: ReadonlySet<string>,
  onLayer: (layer: LayerDescriptor, blob: Readable) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const layer of layers) {
    if (!wanted.has(layer.key) || !layer.digest) continue;
    signal?.throwIfAborted();
    const part = `blob ${layer.digest}`;
    const response = await client.call({
      path: `/v2/${repository}/blobs/${layer.digest}`,
      scope: repositoryScope(repository),
      part,
      subject: `layer blob ${layer.digest} of repository ${repository}`,
    });
    const body = response.body;
    const verifier = createDigestVerifier({ digest: layer.digest, part, ...(layer.size !== undefined ? { size: layer.size } : {}) });
    let failure: unknown;
    // Recorded so a consumer that swallowed the stream error still cannot turn a tampered layer into a clean scan.
    verifier.on('error', (error) => {
      failure ??= error;
    });
    body.on('error', (error) => verifier.destroy(toRegistryNetworkError(error, part, signal) as Error));
    verifier.on('close', () => body.destroy());
    body.pipe(verifier);
    try {
      await onLayer(layer, verifier);
    } finally {
      if (!verifier.readableEnded) verifier.destroy();
    }
    if (failure) throw failure;
  }
}
export { listRegistryImages, type ListingNotice, type ListingOptions } from './registry-catalog.ts';
