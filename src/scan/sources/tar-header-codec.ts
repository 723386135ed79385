/**
 * Tar header codec: tar-stream's own decoder for 512-byte headers, PAX records and GNU long names, reached directly
 * so a seekable archive can be indexed header by header with the same decoding (checksum, ustar/GNU magic, base-256
 * sizes) the streaming extractor applies. tar-stream's package `exports` hide headers.js, so it is loaded by its path
 * beside the package's entry point; the types below describe the part of it nomine uses.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface DecodedTarHeader {
  name: string;
  /** Data bytes after the header; negative, NaN or beyond 2^53 when the field is corrupt (callers check). */
  size: number;
  /** tar-stream's type names; null for a type flag it does not know. */
  type:
    | 'file'
    | 'link'
    | 'symlink'
    | 'character-device'
    | 'block-device'
    | 'directory'
    | 'fifo'
    | 'contiguous-file'
    | 'pax-header'
    | 'pax-global-header'
    | 'gnu-long-link-path'
    | 'gnu-long-path'
    | null;
  linkname: string | null;
  pax: Record<string, string> | null;
}

interface TarStreamHeaders {
  /** Null for an all-zero block (end of archive); throws on a bad checksum or, unless allowed, an unknown format. */
  decode(block: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): DecodedTarHeader | null;
  decodePax(data: Buffer): Record<string, string>;
  decodeLongPath(data: Buffer, encoding: string): string;
}

const require = createRequire(import.meta.url);
const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as TarStreamHeaders;

/** Same options as tar-stream's extractor uses by default: UTF-8 names, unknown (pre-POSIX) formats refused. */
export function decodeTarHeader(block: Buffer): DecodedTarHeader | null {
  return headers.decode(block, 'utf-8', false);
}

/**
 * PAX records (`<length> <key>=<value>\n`, the length counting the whole record). tar-stream's decoder stops
 * quietly at a record it cannot frame and cuts a record that claims more bytes than there are, so the framing is
 * checked first: an archive whose names depend on such a record would be read differently by other tools (Go's
 * archive/tar, which docker uses, refuses it).
 */
export function decodePaxRecords(data: Buffer): Record<string, string> {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const digits = space === -1 ? '' : data.toString('latin1', at, space);
    const length = /^[1-9][0-9]{0,15}$/.test(digits) ? Number(digits) : Number.NaN;
    const end = at + length;
    const equals = space === -1 ? -1 : data.indexOf(0x3d, space);
    const framed = length > digits.length + 1 && end <= data.length && data[end - 1] === 0x0a && equals > space + 1 && equals < end - 1;
    if (!framed) {
      throw new Error(`malformed PAX record at byte ${at} of ${data.length}${Number.isFinite(length) ? ` (claims ${length} bytes)` : ''}`);
    }
    at = end;
  }
  return headers.decodePax(data);
}

export function decodeGnuLongName(data: Buffer): string {
  return headers.decodeLongPath(data, 'utf-8');
}
