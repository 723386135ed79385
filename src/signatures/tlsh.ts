/**
 * TLSH: the locality-sensitive hash threat-intel feeds publish next to SHA-256 (MalwareBazaar, VirusTotal), computed
 * with the npm `tlsh` port, whose digests equal Debian's `tlsh` 3.4 CLI (compact hash, 1-byte checksum). The port is
 * CommonJS without types, hence the narrow typed wrapper here.
 */
import { createRequire } from 'node:module';

interface TlshDigest {
  calculateDifference(other: TlshDigest, lengthDiff: boolean): number;
}
interface TlshDigestBuilder {
  withHash(hash: string): TlshDigestBuilder;
  build(): TlshDigest;
}

const require = createRequire(import.meta.url);
/** Loaded on first use: the port holds ~9 MB resident, and most scans carry no TLSH entries to compare with. */
let port: { hashText: (data: string) => string; DigestHashBuilder: new () => TlshDigestBuilder } | undefined;
const tlshPort = () =>
  (port ??= {
    hashText: require('tlsh') as (data: string) => string,
    DigestHashBuilder: require('tlsh/lib/digests/digest-hash-builder') as new () => TlshDigestBuilder,
  });

/** The port needs this many bytes; shorter inputs have no digest. */
export const tlshMinimumBytes = 512;

/** The 70-hex-digit digest, or undefined when the input is too short or too uniform to have one. */
export function tlshHash(bytes: Uint8Array): string | undefined {
  if (bytes.length < tlshMinimumBytes) return undefined;
  try {
    // The port reads characters; latin1 maps each byte to the character with the same code.
    return tlshPort().hashText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
  } catch {
    return undefined; // InsufficientComplexityError: a run of identical bytes, padding
  }
}

/** Normalises a published digest: upper case, without the `T1` version prefix newer TLSH versions print. */
export function normaliseTlsh(digest: string): string | undefined {
  const text = digest.trim().toUpperCase();
  const bare = text.length === 72 && text.startsWith('T1') ? text.slice(2) : text;
  return /^[0-9A-F]{70}$/.test(bare) ? bare : undefined;
}

/** Distance as `tlsh -c A -d B` prints it: 0 for the same content, above ~100 for unrelated files. */
export function tlshDistance(left: string, right: string): number {
  const { DigestHashBuilder } = tlshPort();
  const a = new DigestHashBuilder().withHash(left).build();
  const b = new DigestHashBuilder().withHash(right).build();
  return a.calculateDifference(b, true);
}
