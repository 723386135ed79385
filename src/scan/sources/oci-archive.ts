/**
 * oci-archive:PATH[:REF] — a tar of an OCI image layout. Documents come from the archive index (verified against
 * their digests), layers stream from their offsets in the tar, verified while they flow.
 */
import { NomineError } from '../../core/errors.ts';
import type { ImageSource, OpenedImage, SourceContext } from '../image-source.ts';
import { indexArchive, type ArchiveIndex } from './archive-index.ts';
import { streamArchivedLayers, type ArchivedLayer } from './archive-layers.ts';
import { blobPath, verifyBytes } from './digest-verifier.ts';
import { resolveOciImage, type ReadBlob } from './oci-image-resolve.ts';
import { ociIndexSchema, parseDocument } from './oci-manifest.ts';
import { splitPathAndRef } from './path-and-ref.ts';

export function ociArchiveSource(spec: string): ImageSource {
  return {
    transport: 'oci-archive',
    ref: spec,
    async open(context: SourceContext): Promise<OpenedImage> {
      const { path, ref } = await splitPathAndRef(spec);
      const archive = await indexArchive(path, context.limits);
      if (!archive.entries.has('index.json')) {
        throw new NomineError('not-found', 'index.json is missing: not an OCI archive', archive.part);
      }
      return openOciInArchive(archive, spec, ref, context);
    },
  };
}

/** Shared with docker-archive, whose newer docker save output is also an OCI layout. */
export async function openOciInArchive(archive: ArchiveIndex, spec: string, ref: string | undefined, context: SourceContext): Promise<OpenedImage> {
  const index = parseDocument(await archive.readDocument('index.json', 'index.json'), ociIndexSchema, `${archive.part}: index.json`, 'index.json');
  const readBlob: ReadBlob = async (descriptor, what) => {
    const part = `${archive.part}: blob ${descriptor.digest}`;
    const bytes = await archive.readDocument(blobPath(descriptor.digest), `${what} blob ${descriptor.digest}`);
    return verifyBytes(bytes, { digest: descriptor.digest, size: descriptor.size, part });
  };
  const image = await resolveOciImage(index, readBlob, { ref, platform: context.registry?.platform, part: archive.part, maxJsonBytes: context.limits.maxJsonBytes });
  const { layers } = image;
  const archived: ArchivedLayer[] = layers.map((layer, i) => {
    const blob = image.manifest.layers[i];
    if (!blob) throw new NomineError('internal', 'layer without a descriptor', archive.part);
    // Check presence now: a manifest pointing at a missing blob is an error at open, not halfway through a scan.
    archive.resolve(blobPath(blob.digest), `layer blob ${blob.digest}`);
    return { layer, entryName: blobPath(blob.digest), verify: { digest: blob.digest, size: blob.size } };
  });
  return {
    ref: spec,
    names: image.names,
    digest: image.manifestDigest,
    config: image.config,
    layers,
    readLayers: (wanted, onLayer) => streamArchivedLayers(archive, archived, wanted, onLayer, context.signal),
    close: async () => {},
  };
}
