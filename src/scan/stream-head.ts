/** Stream heads: read the first bytes of a stream to sniff its format, and hand back a stream that still has them. */
import { Readable } from 'node:stream';

export interface PeekedStream {
  head: Buffer;
  stream: Readable;
}

export function peekStream(stream: Readable, size: number): Promise<PeekedStream> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (length < size && (chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= size) {
        cleanup();
        const head = Buffer.concat(chunks);
        stream.unshift(head);
        resolve({ head, stream });
      }
    };
    // A stream shorter than `size` ends; unshifting after 'end' is not allowed, so hand back a fresh one.
    const onEnd = () => {
      cleanup();
      const head = Buffer.concat(chunks);
      resolve({ head, stream: Readable.from(head.length ? [head] : []) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}
