/**
 * Layer spool: holds one layer whose identity is only known once it has been hashed (a legacy docker save entry
 * whose ancestors have not streamed by yet) in a private temporary file, so memory stays bounded. One layer at a
 * time, never the image; the file is removed as soon as it has been delivered or found unwanted.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SpooledLayer {
  digest: string;
  open(): Readable;
  remove(): Promise<void>;
}

export async function spoolLayer(stream: Readable): Promise<SpooledLayer> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-layer-'));
  const path = join(dir, 'layer.tar');
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, hashing, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    digest: `sha256:${hash.digest('hex')}`,
    open: () => createReadStream(path),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
