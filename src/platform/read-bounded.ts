/**
 * Bounded reads: gather a stream into memory only up to a limit (a manifest, a config, an API answer), then stop
 * reading and fail with the error the caller names, so a huge or endless body costs at most `maxBytes`.
 */
export interface BoundedStream extends AsyncIterable<unknown> {
  destroy?(error?: Error): unknown;
}

export async function readBounded(stream: BoundedStream, maxBytes: number, exceeded: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    total += bytes.length;
    if (total > maxBytes) {
      stream.destroy?.();
      throw exceeded();
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}
