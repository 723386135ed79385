/** Shannon entropy in bits per byte (0 for constant data, 8 for uniformly random bytes such as ciphertext). */
const sampleBlock = 16 * 1024;
const maxSampledBytes = 1024 * 1024;

export function shannonEntropy(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const from = Math.max(0, start);
  const to = Math.min(bytes.length, end);
  const length = to - from;
  if (length <= 0) return 0;
  const counts = new Uint32Array(256);
  // Past 1 MiB, evenly spread 16 KiB blocks estimate the distribution well: entropy is a weak signal, and
  // counting every byte of every large binary cost more than hashing it.
  const blocks = length <= maxSampledBytes ? 1 : maxSampledBytes / sampleBlock;
  const blockLength = blocks === 1 ? length : sampleBlock;
  const stride = blocks === 1 ? 0 : Math.floor((length - sampleBlock) / (blocks - 1));
  let counted = 0;
  for (let block = 0; block < blocks; block++) {
    const blockStart = from + block * stride;
    for (let i = blockStart; i < blockStart + blockLength; i++) counts[bytes[i]!]!++;
    counted += blockLength;
  }
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / counted;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}
