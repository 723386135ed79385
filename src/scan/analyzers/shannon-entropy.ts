/** Shannon entropy in bits per byte (0 for constant data, 8 for uniformly random bytes such as ciphertext). */
export function shannonEntropy(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const from = Math.max(0, start);
  const to = Math.min(bytes.length, end);
  const length = to - from;
  if (length <= 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = from; i < to; i++) counts[bytes[i]!]!++;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}
