/**
 * docker-daemon:NAME[:TAG] — an image held by the local Docker engine, read through the Engine API.
 *
 * Open inspects the image (`GET /images/{name}/json`): its RootFS.Layers are the diff_ids, which become the layer
 * keys, so a scan whose layers are all cached never exports anything. readLayers exports the image
 * (`GET /images/{name}/get`, a docker save tar) and reads it in ONE streaming pass, stopping the export once every
 * wanted layer went by. docker save puts manifest.json and the config last, so layers are identified without them:
 *  - newer engines (25+) name layers `blobs/sha256/<diff_id>` (uncompressed): the path is the identity;
 *  - legacy engines name them `<v1id>/layer.tar`; each `<v1id>/json` comes first and names its parent, so the
 *    position is the parent-chain length when all ancestors have gone by (LegacyLayerChain); otherwise the layer is
 *    spooled to a temporary file while hashed (its sha256 is its diff_id) and delivered from there.
 * Either way each layer is checked against its diff_id as it streams.
 */
import { NomineError } from '../../core/errors.ts';
import { createDockerClient, type DockerClient, type DockerImageInspect } from '../../platform/docker-client.ts';
import type { ImageConfig, ImageSource, LayerDescriptor, OpenedImage, SourceContext } from '../image-source.ts';
import { digestOfBlobPath } from './docker-archive.ts';
import { describeLayers } from './layer-descriptors.ts';
import { deliverLayer, type OnLayer } from './layer-delivery.ts';
import { LegacyLayerChain, legacyEntry } from './legacy-layer-chain.ts';
import { spoolLayer } from './layer-spool.ts';
import { readBounded, walkTar, type WalkVerdict } from './tar-walk.ts';

/** docker save writes layers uncompressed. */
const savedLayerMediaType = 'application/vnd.docker.image.rootfs.diff.tar';

export function dockerDaemonSource(nameTag: string): ImageSource {
  return {
    transport: 'docker-daemon',
    ref: nameTag,
    async open(context: SourceContext): Promise<OpenedImage> {
      const part = `image ${nameTag}`;
      const client = createDockerClient({
        socketPath: context.dockerSocket,
        timeoutMs: context.limits.httpTimeoutMs,
        idleTimeoutMs: context.limits.httpIdleTimeoutMs,
      });
      try {
        const inspect = await client.inspectImage(nameTag, context.signal);
        const history = await readHistory(client, nameTag, context.signal);
        const config = configFromInspect(inspect, history, part);
        const layers = describeLayers(
          config,
          (config.rootfs?.diff_ids ?? []).map((diffId) => ({ mediaType: savedLayerMediaType, fallbackKey: diffId })),
          part,
        );
        return {
          ref: nameTag,
          names: (inspect.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
          digest: inspect.Id,
          config,
          layers,
          readLayers: (wanted, onLayer) => readExportedLayers(client, nameTag, layers, wanted, onLayer, context),
          close: () => client.close(),
        };
      } catch (error) {
        await client.close();
        throw error;
      }
    },
  };
}

function configFromInspect(inspect: DockerImageInspect, history: ImageConfig['history'], part: string): ImageConfig {
  const diffIds = inspect.RootFS?.Layers ?? [];
  if (!diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new NomineError('invalid-input', 'the engine reported a layer that is not a sha256 diff_id', part);
  }
  return {
    architecture: inspect.Architecture,
    os: inspect.Os,
    ...(inspect.Variant ? { variant: inspect.Variant } : {}),
    config: (inspect.Config ?? null) as ImageConfig['config'],
    rootfs: { type: inspect.RootFS?.Type ?? 'layers', diff_ids: diffIds },
    ...(history ? { history } : {}),
  };
}

interface HistoryItem {
  Created?: number;
  CreatedBy?: string;
  Comment?: string;
}

/** The build history, oldest first as in an image config; it is only informative, so failures leave it out. */
async function readHistory(client: DockerClient, name: string, signal?: AbortSignal): Promise<ImageConfig['history']> {
  try {
    const items = await client.json<HistoryItem[]>({ path: `/images/${encodeURIComponent(name)}/history`, part: `image ${name}`, signal });
    if (!Array.isArray(items)) return undefined;
    return items
      .slice()
      .reverse()
      .map((item) => ({
        ...(item.CreatedBy ? { created_by: item.CreatedBy } : {}),
        ...(item.Comment ? { comment: item.Comment } : {}),
        ...(typeof item.Created === 'number' ? { created: new Date(item.Created * 1000).toISOString() } : {}),
      }));
  } catch {
    return undefined;
  }
}

async function readExportedLayers(
  client: DockerClient,
  name: string,
  layers: LayerDescriptor[],
  wanted: ReadonlySet<string>,
  onLayer: OnLayer,
  context: SourceContext,
): Promise<void> {
  const pending = new Map<string, LayerDescriptor>();
  for (const layer of layers) if (wanted.has(layer.key) && !pending.has(layer.key)) pending.set(layer.key, layer);
  if (pending.size === 0) return;

  const part = `image ${name}`;
  const chain = new LegacyLayerChain();
  const deliver = async (key: string, stream: Parameters<typeof deliverLayer>[0]): Promise<WalkVerdict> => {
    const layer = pending.get(key) as LayerDescriptor;
    pending.delete(key);
    await deliverLayer(stream, layer, onLayer, { digest: key, part: `${part}: layer ${key}` });
    return pending.size === 0 ? 'stop' : 'continue';
  };

  const exported = await client.exportImage(name, context.signal);
  await walkTar(exported, `${part}: export`, async (entry, stream): Promise<WalkVerdict> => {
    context.signal?.throwIfAborted();
    if (entry.type !== 'file') return 'continue'; // symlinked layer.tar: a repeated diff_id, already handled
    const blobDigest = digestOfBlobPath(entry.name);
    if (blobDigest) return pending.has(blobDigest) ? deliver(blobDigest, stream) : 'continue';

    const legacy = legacyEntry(entry.name);
    if (!legacy) return 'continue';
    if (legacy.kind === 'json') {
      const bytes = await readBounded(stream, context.limits.maxJsonBytes, `${part}: ${entry.name}`, entry.name);
      try {
        chain.record(legacy.id, JSON.parse(bytes.toString('utf8')));
      } catch (error) {
        throw new NomineError('invalid-input', `${entry.name} in the export is not valid JSON`, `${part}: ${entry.name}`, { cause: error });
      }
      return 'continue';
    }
    const position = chain.positionOf(legacy.id);
    if (position !== undefined) {
      const layer = layers[position];
      if (!layer) throw new NomineError('invalid-input', `the export holds more layers than the image's ${layers.length}`, part);
      return pending.has(layer.key) ? deliver(layer.key, stream) : 'continue';
    }
    const spooled = await spoolLayer(stream);
    try {
      return pending.has(spooled.digest) ? await deliver(spooled.digest, spooled.open()) : 'continue';
    } finally {
      await spooled.remove();
    }
  });
  if (pending.size > 0) {
    throw new NomineError('not-found', `the engine's export of ${name} lacks layer(s) ${[...pending.keys()].join(', ')}`, part);
  }
}
