/**
 * Digest verification while streaming: a pass-through that hashes what flows and fails at the end when the content
 * is not what its digest (and declared size) promised, so a tampered or truncated blob is never taken for the real one.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { NomineError } from '../../core/errors.ts';

export interface VerifyOptions {
  /** `sha256:…` or `sha512:…`. */
  digest: string;
  /** Size the descriptor declares; more bytes than this fail at once, fewer fail at the end. */
  size?: number;
  part: string;
}

export function createDigestVerifier(options: VerifyOptions): Transform {
  const [algorithm = '', expectedHex = ''] = options.digest.split(':');
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new NomineError('unsupported', `digest algorithm ${algorithm || '(none)'} is not supported`, options.part);
  }
  const hash = createHash(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (options.size !== undefined && seen > options.size) {
        callback(new NomineError('invalid-input', `blob ${options.digest} is larger than the ${options.size} bytes its descriptor declares`, options.part));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (options.size !== undefined && seen !== options.size) {
        callback(new NomineError('invalid-input', `blob ${options.digest} has ${seen} bytes, its descriptor declares ${options.size}`, options.part));
        return;
      }
      const actual = hash.digest('hex');
      if (actual !== expectedHex) {
        callback(new NomineError('invalid-input', `blob content does not match its digest ${options.digest} (got ${algorithm}:${actual})`, options.part));
        return;
      }
      callback();
    },
  });
}

/** The path of a blob inside an OCI layout, from a digest already checked by `digestSchema`. */
export function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return `blobs/${algorithm}/${hex}`;
}

/** Verifies a document already in memory (a manifest or config read from an archive). */
export function verifyBytes(bytes: Buffer, options: VerifyOptions): Buffer {
  const [algorithm = '', expectedHex = ''] = options.digest.split(':');
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new NomineError('unsupported', `digest algorithm ${algorithm || '(none)'} is not supported`, options.part);
  }
  if (options.size !== undefined && bytes.length !== options.size) {
    throw new NomineError('invalid-input', `blob ${options.digest} has ${bytes.length} bytes, its descriptor declares ${options.size}`, options.part);
  }
  const actual = createHash(algorithm).update(bytes).digest('hex');
  if (actual !== expectedHex) {
    throw new NomineError('invalid-input', `blob content does not match its digest ${options.digest} (got ${algorithm}:${actual})`, options.part);
  }
  return bytes;
}
