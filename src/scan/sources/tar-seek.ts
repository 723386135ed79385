/**
 * Seeking tar walk: lists the entries of a tar held in something with random access (an archive file on disk) by
 * reading only their headers. Each 512-byte header is decoded with tar-stream's own codec, then the walk jumps over
 * the entry's data (its size rounded up to 512) to the next header; PAX and GNU long-name headers apply to the entry
 * that follows, as in tar-stream's extractor. Every entry comes out with the offset of its data, so a caller reads
 * exactly the entries it wants and nothing else. Anything that does not add up (truncation, a bad checksum, a size
 * running past the end, data after the end-of-archive marker) fails with a NomineError naming the archive and the
 * place, before any entry is used.
 */
import { NomineError } from '../../core/errors.ts';
import { toArchiveEntry, type ArchiveEntry } from './tar-walk.ts';
import { decodeGnuLongName, decodePaxRecords, decodeTarHeader, type DecodedTarHeader } from './tar-header-codec.ts';

const blockBytes = 512;
/** tar-stream's extractor refuses PAX and long-name headers above 4 MiB; so does this walk. */
export const maxExtendedHeaderBytes = 4 * 1024 * 1024;
/** A PAX global header, a PAX header, a long name and a long link name: four in a row is the most a writer needs. */
export const maxExtendedHeadersInRow = 8;
/**
 * Zero bytes tolerated after the end-of-archive marker: tar pads to its record size (10 KiB by default, up to 1 MiB
 * with a large blocking factor); Go's archive/tar, which writes docker save output, pads nothing.
 */
const maxTrailingZeroBytes = 1024 * 1024;

/** Reads up to `length` bytes at `offset`; fewer only at the end of the input. */
type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export interface SeekableTar {
  /** Total bytes; the walk never reads past it. */
  size: number;
  readAt: ReadAt;
}

export interface LocatedEntry {
  entry: ArchiveEntry;
  /** Byte offset of the entry's data (`entry.size` bytes) in the archive. */
  dataOffset: number;
}

/** Header-only types: a writer puts no data after them, and readers disagree on what to do when one claims some. */
const headerOnlyTypes = new Set<DecodedTarHeader['type']>(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);
const gnuSparseTypeFlag = 0x53; // 'S': old GNU sparse entries carry extra header blocks this walk would read as data.

interface Pending {
  pax: Record<string, string> | null;
  paxGlobal: Record<string, string> | null;
  longName: string | null;
  longLinkName: string | null;
  /** Offset of the first extended header of the current run, for messages. */
  runStart: number;
  run: number;
}

/** Yields each entry in archive order. `part` names the archive in errors (`archive /tmp/image.tar`). */
export async function* seekTarEntries(tar: SeekableTar, part: string): AsyncGenerator<LocatedEntry> {
  const corrupt = (message: string): NomineError => new NomineError('invalid-input', `not a readable tar archive: ${message}`, part);
  const pending: Pending = { pax: null, paxGlobal: null, longName: null, longLinkName: null, runStart: 0, run: 0 };
  let previous: string | undefined;
  const after = (): string => (previous === undefined ? 'at the start of the archive' : `after entry ${previous}`);
  let offset = 0;

  for (;;) {
    if (offset === tar.size) {
      // No end-of-archive marker: tar-stream and Go's archive/tar both accept an archive that stops at a header boundary.
      if (pending.run > 0) throw corrupt(`archive ends after the extended header at byte ${pending.runStart}, with no entry for it to describe`);
      return;
    }
    const block = await readExactly(tar, offset, blockBytes, () => corrupt(`archive ends inside the tar header at byte ${offset} (${tar.size - offset} of ${blockBytes} bytes, ${after()})`));
    let header: DecodedTarHeader | null;
    try {
      header = decodeTarHeader(block);
    } catch (error) {
      throw corrupt(`the tar header at byte ${offset} (${after()}) is invalid: ${(error as Error).message}`);
    }
    if (header === null) {
      if (pending.run > 0) throw corrupt(`the extended header at byte ${pending.runStart} is followed by the end-of-archive marker, not by an entry`);
      await checkTrailer(tar, offset, corrupt);
      return;
    }

    const headerOffset = offset;
    const dataOffset = offset + blockBytes;
    const rawSize = header.size;
    switch (header.type) {
      case 'pax-header':
      case 'pax-global-header':
      case 'gnu-long-path':
      case 'gnu-long-link-path': {
        const what = header.type.startsWith('pax') ? 'PAX header' : 'GNU long-name header';
        if (!Number.isSafeInteger(rawSize) || rawSize < 0) throw corrupt(`the ${what} at byte ${headerOffset} (${after()}) declares an impossible size`);
        if (rawSize > maxExtendedHeaderBytes) {
          throw corrupt(`the ${what} at byte ${headerOffset} (${after()}) declares ${rawSize} bytes, more than the ${maxExtendedHeaderBytes}-byte limit for extended headers`);
        }
        if (pending.run === 0) pending.runStart = headerOffset;
        pending.run += 1;
        if (pending.run > maxExtendedHeadersInRow) {
          throw corrupt(`more than ${maxExtendedHeadersInRow} extended headers in a row from byte ${pending.runStart} (${after()}): a long-name loop, not an archive`);
        }
        const data = await readExactly(tar, dataOffset, rawSize, () => corrupt(`archive ends inside the ${what} at byte ${headerOffset} (${after()})`));
        try {
          applyExtendedHeader(pending, header.type, data);
        } catch (error) {
          throw corrupt(`the ${what} at byte ${headerOffset} (${after()}) is invalid: ${(error as Error).message}`);
        }
        offset = nextHeader(dataOffset, rawSize);
        if (offset > tar.size) throw corrupt(`archive ends inside the padding of the ${what} at byte ${headerOffset} (${after()})`);
        continue;
      }
    }

    applyPending(header, pending);
    if (header.type === null && block[156] === gnuSparseTypeFlag) {
      throw new NomineError('unsupported', `archive entry ${header.name} is an old GNU sparse file, which an image archive never holds`, part);
    }
    // Checks the name (no `..`), the size (a safe integer), and link targets (inside the archive).
    const entry = toArchiveEntry(header, part);
    const size = header.size;
    if (headerOnlyTypes.has(header.type) && size !== 0) {
      throw corrupt(`archive entry ${entry.name} is a ${header.type} but declares ${size} bytes of data`);
    }
    if (nextHeader(dataOffset, size) > tar.size) {
      throw corrupt(`archive entry ${entry.name} (header at byte ${headerOffset}) declares ${size} bytes of data, past the end of the ${tar.size}-byte archive: truncated or corrupt`);
    }
    yield { entry, dataOffset };
    previous = entry.name;
    offset = nextHeader(dataOffset, size);
  }
}

function nextHeader(dataOffset: number, size: number): number {
  return dataOffset + Math.ceil(size / blockBytes) * blockBytes;
}

function applyExtendedHeader(pending: Pending, type: 'pax-header' | 'pax-global-header' | 'gnu-long-path' | 'gnu-long-link-path', data: Buffer): void {
  switch (type) {
    case 'gnu-long-path':
      pending.longName = decodeGnuLongName(data);
      break;
    case 'gnu-long-link-path':
      pending.longLinkName = decodeGnuLongName(data);
      break;
    case 'pax-global-header':
      pending.paxGlobal = decodePaxRecords(data);
      break;
    case 'pax-header':
      // As tar-stream does: global records apply through the next per-entry PAX header.
      pending.pax = { ...(pending.paxGlobal ?? {}), ...decodePaxRecords(data) };
      break;
  }
}

/** tar-stream's `_applyLongHeaders`: long names first, then PAX path, linkpath and size. */
function applyPending(header: DecodedTarHeader, pending: Pending): void {
  if (pending.longName !== null) header.name = pending.longName;
  if (pending.longLinkName !== null) header.linkname = pending.longLinkName;
  if (pending.pax) {
    if (pending.pax.path) header.name = pending.pax.path;
    if (pending.pax.linkpath) header.linkname = pending.pax.linkpath;
    // A PAX size that is not a plain decimal would be read differently by each tool: make it fail the size check.
    if (pending.pax.size) header.size = /^[0-9]{1,16}$/.test(pending.pax.size) ? Number(pending.pax.size) : Number.NaN;
    header.pax = pending.pax;
  }
  pending.longName = null;
  pending.longLinkName = null;
  pending.pax = null;
  pending.run = 0;
}

/**
 * After the first zero block only zeros may follow. tar-stream skips zero blocks and reads on, GNU tar and Go stop at
 * the marker: an archive with entries past it means different things to different tools, so it is refused.
 */
async function checkTrailer(tar: SeekableTar, markerOffset: number, corrupt: (message: string) => NomineError): Promise<void> {
  const trailing = tar.size - markerOffset;
  if (trailing > maxTrailingZeroBytes) {
    throw corrupt(`${trailing} bytes follow the end-of-archive marker at byte ${markerOffset}, more than the ${maxTrailingZeroBytes} bytes of padding tar writes`);
  }
  const rest = await readExactly(tar, markerOffset, trailing, () => corrupt(`archive shrank while its end-of-archive marker at byte ${markerOffset} was read`));
  for (let at = 0; at < rest.length; at += 1) {
    if (rest[at] !== 0) {
      const where = markerOffset + at - ((markerOffset + at) % blockBytes);
      throw corrupt(`the end-of-archive marker (a zero block) at byte ${markerOffset} is followed by more data at byte ${where}`);
    }
  }
}

async function readExactly(tar: SeekableTar, offset: number, length: number, short: () => NomineError): Promise<Buffer> {
  if (offset + length > tar.size) throw short();
  const bytes = await tar.readAt(offset, length);
  if (bytes.length < length) throw short();
  return bytes;
}
