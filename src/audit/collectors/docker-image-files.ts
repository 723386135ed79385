/**
 * Docker image file facts (CIS Docker 4.8): the setuid/setgid files of an image's final file system. Reuses the
 * scan's docker-daemon source (one `docker save` export, streamed, bounded by the scan limits) and reads only tar
 * headers: bodies are drained, nothing is analysed or kept. Whiteouts are applied simply: a `.wh.NAME` deletes
 * NAME (and what is under it) from lower layers, `.wh..wh..opq` empties its directory of lower layers' entries,
 * and a later entry at a path replaces the earlier one. It costs an image export, so it runs only under
 * `nomine audit docker --image-files`. Facts: `SetuidFiles: string[]` ('/bin/su (04755)'), sorted.
 */
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { NomineError, toNomineError } from '../../core/errors.ts';
import { defaultLimits, type Limits } from '../../platform/limits.ts';
import { decompressLayer } from '../../scan/decompress-layer.ts';
import { dockerDaemonSource } from '../../scan/sources/docker-engine.ts';
import type { Collection } from '../audit-entity.ts';

/** What one layer says about the paths below and in it. */
export interface LayerFileEvents {
  /** Paths deleted from lower layers (`.wh.NAME`). */
  whiteouts: string[];
  /** Directories emptied of lower layers' entries (`.wh..wh..opq`). */
  opaque: string[];
  /** Every other entry of the layer: its path and, when setuid or setgid, its permission bits. */
  entries: { path: string; special?: number }[];
}

function normalise(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

/** Reads one (possibly compressed) layer's tar headers; bodies are drained. */
export async function readLayerFileEvents(blob: Readable, part: string, limits: Pick<Limits, 'maxLayerBytes' | 'maxLayerEntries'>): Promise<LayerFileEvents> {
  const events: LayerFileEvents = { whiteouts: [], opaque: [], entries: [] };
  const layer = await decompressLayer(blob, part, limits.maxLayerBytes);
  const extract = tar.extract();
  layer.stream.on('error', (error) => extract.destroy(error));
  layer.stream.pipe(extract);
  let count = 0;
  for await (const body of extract) {
    count += 1;
    if (count > limits.maxLayerEntries) {
      extract.destroy();
      throw new NomineError('limit-exceeded', `layer has more than ${limits.maxLayerEntries} entries (limits.maxLayerEntries)`, part);
    }
    const header = body.header;
    body.resume();
    const path = normalise(header.name);
    if (path === '') continue;
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = path.slice(slash + 1);
    if (base === '.wh..wh..opq') events.opaque.push(dir);
    else if (base.startsWith('.wh.')) events.whiteouts.push(dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}`);
    else {
      const mode = header.mode ?? 0;
      const special = header.type === 'file' || header.type === 'contiguous-file' ? mode & 0o6000 : 0;
      events.entries.push(special ? { path, special: mode & 0o7777 } : { path });
    }
  }
  return events;
}

/** The setuid/setgid files left after applying layers bottom to top: `/path (04755)`, sorted. */
export function setuidFilesOf(layers: readonly LayerFileEvents[]): string[] {
  const files = new Map<string, number>();
  const removeUnder = (dir: string, self: boolean) => {
    for (const path of [...files.keys()]) {
      if ((self && path === dir) || dir === '' || path.startsWith(`${dir}/`)) files.delete(path);
    }
  };
  for (const layer of layers) {
    for (const path of layer.whiteouts) removeUnder(path, true);
    for (const dir of layer.opaque) removeUnder(dir, false);
    for (const entry of layer.entries) {
      if (entry.special) files.set(entry.path, entry.special);
      else files.delete(entry.path);
    }
  }
  return [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, mode]) => `/${path} (0${mode.toString(8)})`);
}

export async function imageSetuidFiles(reference: string, options: { dockerSocket?: string; limits?: Limits; signal?: AbortSignal } = {}): Promise<string[]> {
  const limits = options.limits ?? defaultLimits;
  const image = await dockerDaemonSource(reference).open({
    limits,
    ...(options.dockerSocket ? { dockerSocket: options.dockerSocket } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    // The export may deliver layers out of order; keep each layer's events by position and apply them in order.
    const byIndex = new Map<number, LayerFileEvents>();
    await image.readLayers(new Set(image.layers.map((layer) => layer.key)), async (layer, blob) => {
      byIndex.set(layer.index, await readLayerFileEvents(blob, `image ${reference} layer ${layer.index}`, limits));
    });
    return setuidFilesOf([...byIndex.entries()].sort(([a], [b]) => a - b).map(([, events]) => events));
  } finally {
    await image.close();
  }
}

/** Adds `SetuidFiles` to every image entity of a collection (by its inspect `Id`); a failed export is an error result. */
export async function addImageSetuidFiles(images: Collection, options: { dockerSocket?: string; limits?: Limits; signal?: AbortSignal } = {}): Promise<Collection> {
  for (const entity of images.entities) {
    if (entity.target !== 'docker.image') continue;
    const id = typeof entity.facts.Id === 'string' ? entity.facts.Id : entity.name;
    try {
      entity.facts.SetuidFiles = await imageSetuidFiles(id, options);
    } catch (error) {
      const failure = toNomineError(error);
      images.errors.push({ target: 'docker.image', kind: 'image', name: entity.name, code: failure.code, message: `image files: ${failure.describe()}` });
    }
  }
  return images;
}
