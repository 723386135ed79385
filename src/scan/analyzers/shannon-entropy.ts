/** Shannon entropy in bits per byte (0 for constant data, 8 for uniformly random bytes such as ciphertext). */
const sampleBlock = 4 * 1024;
const maxSampledBytes = 64 * 1024;

/**
 * Adds the byte values of bytes[from, to) to `counts`. Reads aligned 32-bit words into four tables: one table
 * incremented per byte stalls on its own stores, and this loop runs over every byte of every ELF section (1.7x).
 */
function countBytes(bytes: Uint8Array, from: number, to: number, counts: Uint32Array, spare: Uint32Array[]): void {
  let i = from;
  while (i < to && ((bytes.byteOffset + i) & 3) !== 0) counts[bytes[i++]!]!++;
  const wordCount = (to - i) >>> 2;
  if (wordCount > 0) {
    const [c1, c2, c3] = spare as [Uint32Array, Uint32Array, Uint32Array];
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, wordCount);
    for (let k = 0; k < wordCount; k++) {
      const word = words[k]!;
      counts[word & 255]!++;
      c1[(word >>> 8) & 255]!++;
      c2[(word >>> 16) & 255]!++;
      c3[word >>> 24]!++;
    }
    i += wordCount * 4;
  }
  for (; i < to; i++) counts[bytes[i]!]!++;
}

export function shannonEntropy(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const from = Math.max(0, start);
  const to = Math.min(bytes.length, end);
  const length = to - from;
  if (length <= 0) return 0;
  const counts = new Uint32Array(256);
  const spare = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  // Past 64 KiB, sixteen evenly spread 4 KiB blocks estimate the distribution well (256 symbols, 64 Ki samples: the
  // estimate's bias is under 0.003 bits): entropy is a weak signal, and counting every byte of every large section
  // cost nearly as much as hashing it.
  const blocks = length <= maxSampledBytes ? 1 : maxSampledBytes / sampleBlock;
  const blockLength = blocks === 1 ? length : sampleBlock;
  const stride = blocks === 1 ? 0 : Math.floor((length - sampleBlock) / (blocks - 1));
  let counted = 0;
  for (let block = 0; block < blocks; block++) {
    const blockStart = from + block * stride;
    countBytes(bytes, blockStart, blockStart + blockLength, counts, spare);
    counted += blockLength;
  }
  for (const table of spare) for (let value = 0; value < 256; value++) counts[value]! += table[value]!;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / counted;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}
