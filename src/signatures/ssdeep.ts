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

/** FNV step reduced to 6 bits: (h * 0x01000193) ^ c mod 64 depends only on h mod 64 and c mod 64. */
function sumHash(c: number, h: number): number {
  return ((h * 0x93) ^ c) & 0x3f;
}

interface BlockHash {
  h: number;
  halfh: number;
  digest: string[];
  halfdigest: string;
  dindex: number;
}

function blockSize(index: number): number {
  return MIN_BLOCKSIZE * 2 ** index;
}

/** The ssdeep digest `blocksize:hash1:hash2` of a whole buffer (what `ssdeep -b FILE` prints before the name). */
export function ssdeepHash(bytes: Uint8Array): string {
  const total = bytes.length;
  const bh: BlockHash[] = [{ h: HASH_INIT, halfh: HASH_INIT, digest: [], halfdigest: '', dindex: 0 }];
  let bhstart = 0;
  let bhend = 1;
  let lasth = HASH_INIT;
  let needLastHash = false;
  // Rolling hash state (uint32 arithmetic).
  const window = new Uint8Array(ROLLING_WINDOW);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let n = 0;

  const forkBlockHash = (): void => {
    const obh = bh[bhend - 1]!;
    if (bhend < NUM_BLOCKHASHES) {
      bh[bhend] = { h: obh.h, halfh: obh.halfh, digest: [], halfdigest: '', dindex: 0 };
      bhend++;
    } else if (!needLastHash) {
      needLastHash = true;
      lasth = obh.h;
    }
  };
  const reduceBlockHash = (): void => {
    if (bhend - bhstart < 2) return;
    if (blockSize(bhstart) * SPAMSUM_LENGTH >= total) return;
    if (bh[bhstart + 1]!.dindex < SPAMSUM_LENGTH / 2) return;
    bhstart++;
  };

  for (let k = 0; k < total; k++) {
    const c = bytes[k]!;
    h2 = (h2 - h1 + ROLLING_WINDOW * c) >>> 0;
    h1 = (h1 + c - window[n % ROLLING_WINDOW]!) >>> 0;
    window[n % ROLLING_WINDOW] = c;
    n++;
    h3 = ((h3 << 5) ^ c) >>> 0;
    const sum = (h1 + h2 + h3) >>> 0;

    for (let i = bhstart; i < bhend; i++) {
      const b = bh[i]!;
      b.h = sumHash(c, b.h);
      b.halfh = sumHash(c, b.halfh);
    }
    if (needLastHash) lasth = sumHash(c, lasth);

    for (let i = bhstart; i < bhend; i++) {
      const bs = blockSize(i);
      if (sum % bs !== bs - 1) break; // false for one block size, false for all larger ones
      const b = bh[i]!;
      if (b.dindex === 0) forkBlockHash();
      b.digest[b.dindex] = B64[b.h]!;
      b.halfdigest = B64[b.halfh]!;
      if (b.dindex < SPAMSUM_LENGTH - 1) {
        b.dindex++;
        b.digest.length = b.dindex;
        b.h = HASH_INIT;
        if (b.dindex < SPAMSUM_LENGTH / 2) {
          b.halfh = HASH_INIT;
          b.halfdigest = '';
        }
      } else {
        reduceBlockHash();
      }
    }
  }

  const h = (h1 + h2 + h3) >>> 0;
  let bi = bhstart;
  while (blockSize(bi) * SPAMSUM_LENGTH < total) bi++;
  while (bi >= bhend) bi--;
  while (bi > bhstart && bh[bi]!.dindex < SPAMSUM_LENGTH / 2) bi--;

  let first = bh[bi]!.digest.slice(0, bh[bi]!.dindex).join('');
  if (h !== 0) first += B64[bh[bi]!.h]!;
  else if (bh[bi]!.digest[bh[bi]!.dindex] !== undefined) first += bh[bi]!.digest[bh[bi]!.dindex]!;

  let second = '';
  if (bi < bhend - 1) {
    const next = bh[bi + 1]!;
    second = next.digest.slice(0, Math.min(next.dindex, SPAMSUM_LENGTH / 2 - 1)).join('');
    if (h !== 0) second += B64[next.halfh]!;
    else second += next.halfdigest;
  } else if (h !== 0) {
    second = bi === 0 ? B64[bh[bi]!.h]! : B64[lasth]!;
  }
  return `${blockSize(bi)}:${first}:${second}`;
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
