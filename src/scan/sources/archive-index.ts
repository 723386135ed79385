/**
 * Archive index: what an image archive on disk holds, learnt without unpacking it. An archive file can be seeked,
 * so the index is built from the tar headers alone (tar-seek.ts) and remembers where each entry's data starts: small
 * documents (manifest.json, index.json, configs, OCI manifests, all bounded by `limits.maxJsonBytes`) are then read
 * with one positioned read each, and layers stream straight from their offset. A layer the cache already holds is
 * never read; the others are read once.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, pipeline } from 'node:stream';
import { NomineError } from '../../core/errors.ts';
import type { Limits } from '../../platform/limits.ts';
import { seekTarEntries, type SeekableTar } from './tar-seek.ts';
import { asArchiveError, type ArchiveEntry } from './tar-walk.ts';

/** Symlink hops followed inside an archive before it is called a loop. */
const maxLinkHops = 16;
/**
 * Entries one archive may list. Every entry stays in memory while the image is scanned; docker save writes four per
 * layer and an OCI archive one per blob, so even a thousand-layer image stays far below.
 */
const maxArchiveEntries = 100_000;
/**
 * Layers stream through decompression far slower than they are read, so bigger reads only sit in buffers: 4 MiB
 * reads held ~70 MB more resident memory over the benchmark image than 256 KiB ones, for no gain in speed (64 KiB
 * reads cost 5 % more CPU).
 */
const layerReadChunk = 256 * 1024;

/** An entry of the index with the place its data starts in the archive file. */
export interface IndexedEntry extends ArchiveEntry {
  dataOffset: number;
}

export interface ArchiveIndex {
  path: string;
  part: string;
  entries: ReadonlyMap<string, IndexedEntry>;
  /** The regular file `name` ends at after following links, or a NomineError naming what is missing. */
  resolve(name: string, what: string): IndexedEntry;
  /** A small document by name (after links): one positioned read, kept in memory afterwards. */
  readDocument(name: string, what: string): Promise<Buffer>;
  /** Hands each regular file named in `names` to `visit`, in archive order, each read from its own offset. */
  streamFiles(names: ReadonlySet<string>, visit: (entry: IndexedEntry, stream: Readable) => Promise<void>): Promise<void>;
}

/** What identifies the file that was indexed; a later read from anything else would use stale offsets. */
interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export async function indexArchive(path: string, limits: Limits): Promise<ArchiveIndex> {
  const part = `archive ${path}`;
  const entries = new Map<string, IndexedEntry>();
  const documents = new Map<string, Buffer>();

  const first = await openArchive(path, part);
  const identity = first.identity;
  try {
    for await (const { entry, dataOffset } of seekTarEntries(seekable(first.handle, identity.size), part)) {
      if (entries.has(entry.name) && entry.type !== 'directory') {
        throw new NomineError('invalid-input', `archive holds ${entry.name} twice`, part);
      }
      if (entries.size >= maxArchiveEntries && !entries.has(entry.name)) {
        throw new NomineError('limit-exceeded', `archive lists more than ${maxArchiveEntries} entries, more than any image archive holds`, part);
      }
      entries.set(entry.name, { ...entry, dataOffset });
    }
  } catch (error) {
    throw asArchiveError(error, part);
  } finally {
    await first.handle.close();
  }

  /** Opens the archive again for a read, refusing it when it is no longer the file the offsets came from. */
  async function reopen(): Promise<FileHandle> {
    const { handle, identity: now } = await openArchive(path, part);
    if (now.dev !== identity.dev || now.ino !== identity.ino || now.size !== identity.size || now.mtimeMs !== identity.mtimeMs) {
      await handle.close();
      throw new NomineError('invalid-input', 'archive changed while being read: it is not the file that was indexed', part);
    }
    return handle;
  }

  function resolve(name: string, what: string): IndexedEntry {
    let current = name;
    for (let hop = 0; hop <= maxLinkHops; hop += 1) {
      const entry = entries.get(current);
      if (!entry) throw new NomineError('not-found', `${what} ${current} is not in the archive`, `${part}: ${name}`);
      if (entry.type === 'file') return entry;
      if (!entry.linkTarget) throw new NomineError('invalid-input', `${what} ${current} is a ${entry.type}, not a file`, `${part}: ${name}`);
      current = entry.linkTarget;
    }
    throw new NomineError('invalid-input', `${what} ${name} is a link loop`, `${part}: ${name}`);
  }

  async function readDocument(name: string, what: string): Promise<Buffer> {
    const entry = resolve(name, what);
    if (entry.size > limits.maxJsonBytes) {
      throw new NomineError('limit-exceeded', `${what} is ${entry.size} bytes, more than limits.maxJsonBytes (${limits.maxJsonBytes})`, `${part}: ${entry.name}`);
    }
    const kept = documents.get(entry.name);
    if (kept) return kept;
    const handle = await reopen();
    let bytes: Buffer;
    try {
      bytes = await seekable(handle, identity.size).readAt(entry.dataOffset, entry.size);
    } catch (error) {
      throw asArchiveError(error, `${part}: ${entry.name}`);
    } finally {
      await handle.close();
    }
    if (bytes.length !== entry.size) {
      throw new NomineError('invalid-input', `archive changed while being read: ${entry.name} ends after ${bytes.length} of ${entry.size} bytes`, `${part}: ${entry.name}`);
    }
    documents.set(entry.name, bytes);
    return bytes;
  }

  async function streamFiles(names: ReadonlySet<string>, visit: (entry: IndexedEntry, stream: Readable) => Promise<void>): Promise<void> {
    const wanted = [...names].map((name) => {
      const entry = entries.get(name);
      if (entry?.type !== 'file') throw new NomineError('internal', `${name} is not a regular file of the archive`, part);
      return entry;
    });
    wanted.sort((a, b) => a.dataOffset - b.dataOffset);
    for (const entry of wanted) {
      const stream = await openEntryStream(entry);
      try {
        await visit(entry, stream);
      } finally {
        stream.destroy();
      }
    }
  }

  async function openEntryStream(entry: IndexedEntry): Promise<Readable> {
    if (entry.size === 0) return Readable.from([], { objectMode: false });
    const handle = await reopen();
    // The handle is closed by the stream when it ends or is destroyed (autoClose).
    const file = handle.createReadStream({ start: entry.dataOffset, end: entry.dataOffset + entry.size - 1, highWaterMark: layerReadChunk });
    const entryPart = `${part}: ${entry.name}`;
    let seen = 0;
    // A file cut short while it is read ends the read stream early, not with an error: turn that into one before the
    // reader takes the short entry for the whole.
    const counted = new Transform({
      highWaterMark: layerReadChunk,
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        callback(null, chunk);
      },
      flush(callback) {
        callback(seen === entry.size ? null : new NomineError('invalid-input', `archive changed while being read: ${entry.name} ends after ${seen} of ${entry.size} bytes`, entryPart));
      },
    });
    // pipeline forwards a read error to the stream the visitor holds, and closes the file when the visitor stops early.
    return pipeline(file, counted, () => {});
  }

  return { path, part, entries, resolve, readDocument, streamFiles };
}

async function openArchive(path: string, part: string): Promise<{ handle: FileHandle; identity: FileIdentity }> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO put where the archive was must not hang the open; regular files ignore the flag.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw asArchiveError(error, part);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NomineError('invalid-input', 'expected an archive file', part);
    return { handle, identity: { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs } };
  } catch (error) {
    await handle.close();
    throw asArchiveError(error, part);
  }
}

function seekable(handle: FileHandle, size: number): SeekableTar {
  return {
    size,
    async readAt(offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    },
  };
}
