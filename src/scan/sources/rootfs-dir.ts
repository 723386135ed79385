/**
 * rootfs:DIR — a plain directory (an unpacked root file system, a mounted volume) presented as one layer. The layer
 * tar is generated on the fly from a walk that never follows symlinks, so nothing is copied and a link cannot lead
 * the scan outside DIR; sockets, devices and fifos are skipped. The key names the directory and is never cached,
 * since a directory has no digest and changes in place.
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { NomineError, toNomineError } from '../../core/errors.ts';
import type { ImageSource, LayerDescriptor, OpenedImage, SourceContext } from '../image-source.ts';
import { deliverLayer } from './layer-delivery.ts';

export function rootfsDirSource(spec: string): ImageSource {
  return {
    transport: 'rootfs',
    ref: spec,
    async open(context: SourceContext): Promise<OpenedImage> {
      const root = resolve(spec);
      const info = await lstat(root).catch((error: unknown) => {
        throw new NomineError('not-found', `no directory at ${root}`, `rootfs ${root}`, { cause: error });
      });
      if (!info.isDirectory()) throw new NomineError('invalid-input', 'expected a directory', `rootfs ${root}`);
      const layer: LayerDescriptor = { index: 0, key: `rootfs:${root}`, cacheable: false, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
      return {
        ref: spec,
        names: [],
        config: {},
        layers: [layer],
        async readLayers(wanted, onLayer) {
          if (!wanted.has(layer.key)) return;
          await deliverLayer(packDirectory(root, context.signal), layer, onLayer);
        },
        close: async () => {},
      };
    },
  };
}

/** A tar stream of `root`'s contents, produced as it is read (backpressure reaches the walk). */
export function packDirectory(root: string, signal?: AbortSignal): Readable {
  const pack = tar.pack();
  const output = Readable.from(pack, { objectMode: false });
  const seenInodes = new Map<string, string>();

  async function add(relative: string, stats: Stats): Promise<void> {
    const absolute = join(root, relative);
    const base = { name: relative, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid, mtime: stats.mtime };
    if (stats.isDirectory()) {
      await entry({ ...base, type: 'directory' });
      await addChildren(relative);
    } else if (stats.isSymbolicLink()) {
      await entry({ ...base, type: 'symlink', linkname: await readlink(absolute) });
    } else if (stats.isFile()) {
      const inode = `${stats.dev}:${stats.ino}`;
      const first = stats.nlink > 1 ? seenInodes.get(inode) : undefined;
      if (first !== undefined) {
        await entry({ ...base, type: 'link', linkname: first });
        return;
      }
      if (stats.nlink > 1) seenInodes.set(inode, relative);
      await fileEntry({ ...base, type: 'file', size: stats.size }, absolute);
    }
    // Sockets, devices and fifos carry no content to scan.
  }

  async function addChildren(relative: string): Promise<void> {
    const names: string[] = [];
    for await (const dirent of await opendir(join(root, relative))) names.push(dirent.name);
    // Sorted, so the same directory always yields the same tar.
    for (const name of names.sort()) {
      if (output.destroyed) return;
      signal?.throwIfAborted();
      const child = relative ? `${relative}/${name}` : name;
      await add(child, await lstat(join(root, child)));
    }
  }

  function entry(header: tar.Header | (Partial<tar.Header> & { name: string })): Promise<void> {
    return new Promise((done, fail) => pack.entry(header, (error) => (error ? fail(error) : done())));
  }

  async function fileEntry(header: Partial<tar.Header> & { name: string; size: number }, absolute: string): Promise<void> {
    let finish: (error?: Error | null) => void = () => {};
    const written = new Promise<void>((done, fail) => {
      finish = (error) => (error ? fail(error) : done());
    });
    const sink = pack.entry(header, finish);
    if (header.size > 0) {
      // Read exactly the size we declared: a file growing under us must not corrupt the tar.
      for await (const chunk of createReadStream(absolute, { start: 0, end: header.size - 1 })) {
        if (!sink.write(chunk as Buffer)) await once(sink, 'drain');
      }
    }
    sink.end(undefined);
    await written;
  }

  (async () => {
    await addChildren('');
    if (!output.destroyed) pack.finalize();
  })().catch((error: unknown) => {
    output.destroy(toNomineError(error, `rootfs ${root}`));
  });
  return output;
}
