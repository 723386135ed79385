/**
 * Tar walking: one pass over an outer archive (docker save, OCI archive) with tar-stream, visiting each entry with
 * its name made canonical and safe, awaiting the visitor before moving on, and turning every parse failure (not a
 * tar, truncated, hostile names) into a NomineError naming the archive.
 */
import { readBounded as readStreamBounded } from '../../platform/read-bounded.ts';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { posix } from 'node:path';
import tar from 'tar-stream';
import { NomineError, isNomineError } from '../../core/errors.ts';

export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface ArchiveEntry {
  /** Canonical path inside the archive: no leading `./` or `/`, no `.` segments (`blobs/sha256/ab…`). */
  name: string;
  type: ArchiveEntryType;
  size: number;
  /** Canonical path a symlink or hard link points at, resolved against the archive root. */
  linkTarget?: string;
}

/** What a visitor tells the walk: keep going, or stop reading the archive now (everything wanted was seen). */
export type WalkVerdict = 'continue' | 'stop';

/**
 * Canonical form of an entry name. `..` is refused outright: nothing in an image archive needs it, and a name that
 * climbs out of the root is how archive tools are tricked into writing elsewhere.
 */
export function canonicalEntryName(raw: string, part: string): string {
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw new NomineError('invalid-input', `archive entry ${JSON.stringify(raw)} climbs out of the archive with ".."`, part);
    segments.push(segment);
  }
  return segments.join('/');
}

/** Resolves a link target relative to the entry holding it (symlinks) or to the root (hard links). */
export function resolveLinkTarget(entryName: string, target: string, type: 'symlink' | 'hardlink', part: string): string {
  const base = type === 'symlink' ? posix.dirname(entryName) : '.';
  const joined = posix.normalize(posix.join(base, target));
  if (target.startsWith('/') || joined === '..' || joined.startsWith('../')) {
    throw new NomineError('invalid-input', `archive entry ${entryName} links outside the archive (${target})`, part);
  }
  return canonicalEntryName(joined, part);
}

/** The header fields an entry is made of: tar-stream's `Header`, or its codec's output (whose type may be null). */
export type TarHeaderFields = Pick<tar.Header, 'name'> & { size?: number; type: string | null; linkname?: string | null };

export function toArchiveEntry(header: TarHeaderFields, part: string): ArchiveEntry {
  const name = canonicalEntryName(header.name, part);
  const size = header.size ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new NomineError('invalid-input', `archive entry ${name} declares an impossible size`, part);
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { name, type: 'file', size };
    case 'directory':
      return { name, type: 'directory', size: 0 };
    case 'symlink':
    case 'link': {
      const type = header.type === 'symlink' ? 'symlink' : 'hardlink';
      return { name, type, size: 0, linkTarget: resolveLinkTarget(name, header.linkname ?? '', type, part) };
    }
    default:
      return { name, type: 'other', size };
  }
}

/**
 * Walks `input` as a tar. The visitor may read the entry stream or not; whatever it leaves is drained. The input is
 * destroyed when the walk ends for any reason, so a stopped walk releases a file or an HTTP response at once.
 */
export async function walkTar(
  input: Readable,
  part: string,
  visit: (entry: ArchiveEntry, stream: Readable) => Promise<WalkVerdict> | WalkVerdict,
): Promise<void> {
  const extract = tar.extract();
  input.on('error', (error) => extract.destroy(error));
  input.pipe(extract);
  try {
    for await (const raw of extract) {
      const entry = toArchiveEntry(raw.header, part);
      // tar-stream hands out streamx streams; consumers get a plain node Readable with the same backpressure.
      const stream = Readable.from(raw, { objectMode: false });
      const verdict = await visit(entry, stream);
      if (verdict === 'stop') break;
      if (!stream.readableEnded) {
        stream.resume();
        await finished(stream);
      }
    }
  } catch (error) {
    throw asArchiveError(error, part);
  } finally {
    input.unpipe(extract);
    input.destroy();
    extract.destroy();
  }
}

export function asArchiveError(error: unknown, part: string): NomineError {
  if (isNomineError(error)) return error;
  const message = (error as Error)?.message ?? String(error);
  if (/tar header|end of data|unexpected end|checksum|premature|aborted/i.test(message) || (error as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new NomineError('invalid-input', `not a readable tar archive: ${message}`, part, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new NomineError('not-found', `archive not found: ${message}`, part, { cause: error });
  if (code === 'EISDIR') return new NomineError('invalid-input', 'expected an archive file, found a directory', part, { cause: error });
  return new NomineError('internal', message, part, { cause: error });
}

/** Reads a whole entry into memory, refusing more than `maxBytes` (manifests and configs are small; layers are not). */
export function readBounded(stream: Readable, maxBytes: number, part: string, what: string): Promise<Buffer> {
  return readStreamBounded(stream, maxBytes, () => new NomineError('limit-exceeded', `${what} is larger than the ${maxBytes}-byte limit for JSON documents (limits.maxJsonBytes)`, part));
}
