/**
 * ssdeep: context-triggered piecewise hashing (spamsum), ported from ssdeep 2.14's fuzzy.c so that digests and
 * scores equal the `ssdeep` command's. No maintained npm package computes it without native code, and threat-intel
 * feeds publish ssdeep digests of miner builds, so a near-variant (recompiled, re-configured) still matches.
 */

const ROLLING_WINDOW = 7;
const MIN_BLOCKSIZE = 3;
const HASH_INIT = 0x27; // low 6 bits of 0x28021967: only those reach the digest
const SPAMSUM_LENGTH = 64;
const NUM_BLOCKHASHES = 31;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** FNV step reduced to 6 bits: (h * 0x01000193) ^ c mod 64 depends only on h mod 64 and c, so it is a table. */
function sumHash(c: number, h: number): number {
  return ((h * 0x93) ^ c) & 0x3f;
}
const SUM_TABLE = Uint8Array.from({ length: 64 * 256 }, (_, k) => sumHash(k & 0xff, k >> 8));

function blockSize(index: number): number {
  return MIN_BLOCKSIZE * 2 ** index;
}

/** The ssdeep digest `blocksize:hash1:hash2` of a whole buffer (what `ssdeep -b FILE` prints before the name). */
export function ssdeepHash(bytes: Uint8Array): string {
  const total = bytes.length;
  // Per block size: running piece hashes, the digest so far and its length (typed arrays: this loop sees every byte).
  const hs = new Uint8Array(NUM_BLOCKHASHES);
  const halfhs = new Uint8Array(NUM_BLOCKHASHES);
  const halfdigests = new Int8Array(NUM_BLOCKHASHES).fill(-1);
  const digests = new Int8Array(NUM_BLOCKHASHES * SPAMSUM_LENGTH).fill(-1);
  const dindex = new Uint8Array(NUM_BLOCKHASHES);
  const sizes = Array.from({ length: NUM_BLOCKHASHES }, (_, i) => blockSize(i));
  hs[0] = HASH_INIT;
  halfhs[0] = HASH_INIT;
  let bhstart = 0;
  let bhend = 1;
  let lasth = HASH_INIT;
  let needLastHash = false;
  const window = new Uint8Array(ROLLING_WINDOW);
  let w = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;

  for (let k = 0; k < total; k++) {
    const c = bytes[k]!;
    h2 = (h2 - h1 + ROLLING_WINDOW * c) | 0;
    h1 = (h1 + c - window[w]!) | 0;
    window[w] = c;
    w = w === ROLLING_WINDOW - 1 ? 0 : w + 1;
    h3 = (h3 << 5) ^ c;
    const sum = (h1 + h2 + h3) >>> 0;

    for (let i = bhstart; i < bhend; i++) {
      hs[i] = SUM_TABLE[(hs[i]! << 8) | c]!;
      halfhs[i] = SUM_TABLE[(halfhs[i]! << 8) | c]!;
    }
    if (needLastHash) lasth = sumHash(c, lasth);

    // A reset point for block size 3·2^i is sum ≡ -1 (mod 3·2^i): sum + 1 divisible by 3, the quotient by 2^i
    // (integer masks instead of a floating modulo per size); false for one size means false for all larger.
    if ((sum + 1) % MIN_BLOCKSIZE !== 0) continue;
    const quotient = (sum + 1) / MIN_BLOCKSIZE;
    for (let i = bhstart; i < bhend; i++) {
      if ((quotient & ((1 << i) - 1)) !== 0) break;
      if (dindex[i] === 0) {
        // First piece at this block size: start the next larger one from the same state.
        if (bhend < NUM_BLOCKHASHES) {
          hs[bhend] = hs[bhend - 1]!;
          halfhs[bhend] = halfhs[bhend - 1]!;
          digests[bhend * SPAMSUM_LENGTH] = -1;
          halfdigests[bhend] = -1;
          dindex[bhend] = 0;
          bhend++;
        } else if (!needLastHash) {
          needLastHash = true;
          lasth = hs[bhend - 1]!;
        }
      }
      const d = dindex[i]!;
      digests[i * SPAMSUM_LENGTH + d] = hs[i]!;
      halfdigests[i] = halfhs[i]!;
      if (d < SPAMSUM_LENGTH - 1) {
        dindex[i] = d + 1;
        digests[i * SPAMSUM_LENGTH + d + 1] = -1;
        hs[i] = HASH_INIT;
        if (d + 1 < SPAMSUM_LENGTH / 2) {
          halfhs[i] = HASH_INIT;
          halfdigests[i] = -1;
        }
      } else if (
        // The digest at the smallest size is full: drop that size once the final choice can no longer be it.
        bhend - bhstart >= 2 &&
        sizes[bhstart]! * SPAMSUM_LENGTH < total &&
        dindex[bhstart + 1]! >= SPAMSUM_LENGTH / 2
      ) {
        bhstart++;
      }
    }
  }

  const chars = (i: number, length: number): string => {
    let text = '';
    for (let j = 0; j < length; j++) text += B64[digests[i * SPAMSUM_LENGTH + j]!]!;
    return text;
  };
  const h = (h1 + h2 + h3) >>> 0;
  let bi = bhstart;
  while (sizes[bi]! * SPAMSUM_LENGTH < total) bi++;
  while (bi >= bhend) bi--;
  while (bi > bhstart && dindex[bi]! < SPAMSUM_LENGTH / 2) bi--;

  let first = chars(bi, dindex[bi]!);
  const pending = digests[bi * SPAMSUM_LENGTH + dindex[bi]!]!;
  if (h !== 0) first += B64[hs[bi]!]!;
  else if (pending >= 0) first += B64[pending]!;

  let second = '';
  if (bi < bhend - 1) {
    second = chars(bi + 1, Math.min(dindex[bi + 1]!, SPAMSUM_LENGTH / 2 - 1));
    if (h !== 0) second += B64[halfhs[bi + 1]!]!;
    else if (halfdigests[bi + 1]! >= 0) second += B64[halfdigests[bi + 1]!]!;
  } else if (h !== 0) {
    second = bi === 0 ? B64[hs[bi]!]! : B64[lasth]!;
  }
  return `${sizes[bi]}:${first}:${second}`;
}

export interface SsdeepDigest {
  blockSize: number;
  first: string;
  second: string;
}

/** Parses `blocksize:hash1:hash2`; undefined when it is not one (so a bad list entry is reported, not thrown). */
export function parseSsdeep(digest: string): SsdeepDigest | undefined {
  const match = /^(\d{1,10}):([A-Za-z0-9+/]{0,64}):([A-Za-z0-9+/]{0,64})(?:,.*)?$/.exec(digest.trim());
  if (!match) return undefined;
  const blockSize = Number(match[1]);
  if (blockSize < MIN_BLOCKSIZE || blockSize % MIN_BLOCKSIZE !== 0) return undefined;
  return { blockSize, first: match[2]!, second: match[3]! };
}

/** Runs of more than three equal characters carry little information; ssdeep shortens them before comparing. */
function eliminateSequences(text: string): string {
  return text.replace(/(.)\1{3,}/g, '$1$1$1');
}

function hasCommonSubstring(a: string, b: string): boolean {
  if (a.length < ROLLING_WINDOW || b.length < ROLLING_WINDOW) return false;
  const seen = new Set<string>();
  for (let i = 0; i + ROLLING_WINDOW <= a.length; i++) seen.add(a.slice(i, i + ROLLING_WINDOW));
  for (let i = 0; i + ROLLING_WINDOW <= b.length; i++) if (seen.has(b.slice(i, i + ROLLING_WINDOW))) return true;
  return false;
}

/** Levenshtein distance with insert and remove costing 1 and replace 2, as ssdeep 2.13+ computes it. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const replace = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 2);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, replace);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function scoreStrings(a: string, b: string, blockSize: number): number {
  if (a.length > SPAMSUM_LENGTH || b.length > SPAMSUM_LENGTH) return 0;
  if (!hasCommonSubstring(a, b)) return 0;
  let score = editDistance(a, b);
  score = Math.floor((score * SPAMSUM_LENGTH) / (a.length + b.length));
  score = Math.floor((100 * score) / SPAMSUM_LENGTH);
  if (score >= 100) return 0;
  score = 100 - score;
  // Small block sizes mean short inputs whose digests match by chance; ssdeep caps their score.
  if (blockSize >= Math.floor((99 + ROLLING_WINDOW) / ROLLING_WINDOW) * MIN_BLOCKSIZE) return score;
  const cap = Math.floor(blockSize / MIN_BLOCKSIZE) * Math.min(a.length, b.length);
  return Math.min(score, cap);
}

/** Similarity 0–100 of two ssdeep digests, as `ssdeep -a -d` reports it; 0 for unparsable or incomparable ones. */
export function ssdeepCompare(left: string, right: string): number {
  const a = parseSsdeep(left);
  const b = parseSsdeep(right);
  if (!a || !b) return 0;
  if (a.blockSize !== b.blockSize && a.blockSize !== b.blockSize * 2 && b.blockSize !== a.blockSize * 2) return 0;
  const a1 = eliminateSequences(a.first);
  const a2 = eliminateSequences(a.second);
  const b1 = eliminateSequences(b.first);
  const b2 = eliminateSequences(b.second);
  if (a.blockSize === b.blockSize && a1 === b1 && a2 === b2) return 100;
  if (a.blockSize === b.blockSize) {
    return Math.max(scoreStrings(a1, b1, a.blockSize), scoreStrings(a2, b2, a.blockSize * 2));
  }
  if (a.blockSize === b.blockSize * 2) return scoreStrings(a1, b2, a.blockSize);
  return scoreStrings(a2, b1, b.blockSize);
}
