/**
 * docker-archive:PATH[:NAME[:TAG] | :@INDEX] — a `docker save` tarball: manifest.json naming a config and layer
 * paths, either the legacy layout (`<id>/layer.tar`, `<id>.json`) or the newer one (docker 25+: an OCI layout with
 * blobs/sha256 beside manifest.json). Layers named by digest are verified while they stream.
 */
import { NomineError } from '../../core/errors.ts';
import type { ImageSource, OpenedImage, SourceContext } from '../image-source.ts';
import { indexArchive } from './archive-index.ts';
import { streamArchivedLayers, type ArchivedLayer } from './archive-layers.ts';
import { verifyBytes } from './digest-verifier.ts';
import { selectSavedImage } from './docker-save-select.ts';
import { describeLayers } from './layer-descriptors.ts';
import { openOciInArchive } from './oci-archive.ts';
import { dockerSaveManifestSchema, parseDocument, parseImageConfig } from './oci-manifest.ts';
import { splitPathAndRef } from './path-and-ref.ts';
import { canonicalEntryName } from './tar-walk.ts';

const digestPathPattern = /^blobs\/(sha256)\/([a-f0-9]{64})$/;

/** `sha256:…` when a path inside a docker save archive names its content's digest (newer layout). */
export function digestOfBlobPath(path: string): string | undefined {
  const match = digestPathPattern.exec(path);
  return match ? `${match[1]}:${match[2]}` : undefined;
}

export function dockerArchiveSource(spec: string): ImageSource {
  return {
    transport: 'docker-archive',
    ref: spec,
    async open(context: SourceContext): Promise<OpenedImage> {
      const { path, ref } = await splitPathAndRef(spec);
      const archive = await indexArchive(path, context.limits);
      if (!archive.entries.has('manifest.json')) {
        if (archive.entries.has('index.json')) return openOciInArchive(archive, spec, ref, context);
        throw new NomineError('not-found', 'manifest.json is missing: not a docker save archive', archive.part);
      }
      const manifestPart = `${archive.part}: manifest.json`;
      const manifest = parseDocument(await archive.readDocument('manifest.json', 'manifest.json'), dockerSaveManifestSchema, manifestPart, 'manifest.json');
      const saved = selectSavedImage(manifest, ref, manifestPart);

      const configPath = canonicalEntryName(saved.Config, manifestPart);
      const configPart = `${archive.part}: ${configPath}`;
      let configBytes = await archive.readDocument(configPath, 'image config');
      const configDigest = digestOfBlobPath(configPath);
      if (configDigest) configBytes = verifyBytes(configBytes, { digest: configDigest, part: configPart });
      const config = parseImageConfig(configBytes, configPart);

      const layerPaths = saved.Layers.map((layerPath) => canonicalEntryName(layerPath, manifestPart));
      const layers = describeLayers(
        config,
        layerPaths.map((layerPath) => ({ digest: digestOfBlobPath(layerPath), fallbackKey: `docker-archive:${path}#${layerPath}` })),
        manifestPart,
      );
      const archived: ArchivedLayer[] = layers.map((layer, i) => {
        const entryName = layerPaths[i] as string;
        archive.resolve(entryName, `layer ${i}`);
        return { layer, entryName, verify: layer.digest ? { digest: layer.digest } : undefined };
      });
      const id = /^([a-f0-9]{64})\.json$/.exec(configPath)?.[1];
      return {
        ref: spec,
        names: saved.RepoTags ?? [],
        digest: configDigest ?? (id ? `sha256:${id}` : undefined),
        config,
        layers,
        readLayers: (wanted, onLayer) => streamArchivedLayers(archive, archived, wanted, onLayer, context.signal),
        close: async () => {},
      };
    },
  };
}
