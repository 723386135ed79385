/**
 * Archive layers: streams the wanted layers of an image held in an archive on disk, in archive order, each straight
 * from its place in the archive file to the scanner; layers not wanted (already cached) are never read. Layers sharing
 * a key (the same diff_id twice) are read once.
 */
import { NomineError } from '../../core/errors.ts';
import type { LayerDescriptor } from '../image-source.ts';
import type { ArchiveIndex } from './archive-index.ts';
import type { VerifyOptions } from './digest-verifier.ts';
import { deliverLayer, type OnLayer } from './layer-delivery.ts';

export interface ArchivedLayer {
  layer: LayerDescriptor;
  /** Entry name inside the archive, before links are followed. */
  entryName: string;
  /** Digest and size to check while streaming, when the format names them. */
  verify?: Omit<VerifyOptions, 'part'>;
}

export async function streamArchivedLayers(
  archive: ArchiveIndex,
  layers: ArchivedLayer[],
  wanted: ReadonlySet<string>,
  onLayer: OnLayer,
  signal?: AbortSignal,
): Promise<void> {
  const byEntry = new Map<string, ArchivedLayer>();
  const keys = new Set<string>();
  for (const archived of layers) {
    if (!wanted.has(archived.layer.key) || keys.has(archived.layer.key)) continue;
    keys.add(archived.layer.key);
    const entry = archive.resolve(archived.entryName, `layer ${archived.layer.index}`);
    if (!byEntry.has(entry.name)) byEntry.set(entry.name, archived);
  }
  if (byEntry.size === 0) return;
  await archive.streamFiles(new Set(byEntry.keys()), async (entry, stream) => {
    signal?.throwIfAborted();
    const archived = byEntry.get(entry.name);
    if (!archived) throw new NomineError('internal', `unexpected entry ${entry.name}`, archive.part);
    const part = `${archive.part}: layer ${archived.layer.digest ?? archived.entryName}`;
    await deliverLayer(stream, archived.layer, onLayer, archived.verify ? { ...archived.verify, part } : undefined);
  });
}
