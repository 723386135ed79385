/**
 * A minimal streaming ustar writer for the benchmark image: synchronous, batched writes and a running SHA-256
 * (the layer's diff_id), because generating a gigabyte through tar-stream's object mode would dominate the bench.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

const BLOCK = 512;
const FLUSH_BYTES = 8 * 1024 * 1024;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a path into ustar's prefix (155) and name (100) fields. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  const cut = path.lastIndexOf('/', 155);
  if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar path too long: ${path}`);
  return { prefix: path.slice(0, cut), name: path.slice(cut + 1) };
}

export function tarHeader(path: string, size: number, type: '0' | '5', mode: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const { prefix, name } = splitPath(path);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(size, 12), 124, 'latin1');
  header.write(octal(mtime, 12), 136, 'latin1');
  header.write('        ', 148, 'latin1'); // checksum is computed with its own field as spaces
  header.write(type, 156, 'latin1');
  header.write('ustar\0' + '00', 257, 'latin1');
  header.write('root', 265, 'latin1');
  header.write('root', 297, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148, 'latin1');
  return header;
}

export class TarWriter {
  readonly #fd: number;
  readonly #hash: Hash = createHash('sha256');
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dirs = new Set<string>();
  bytes = 0;
  files = 0;

  constructor(path: string, private readonly mtime = 1_700_000_000) {
    this.#fd = openSync(path, 'w');
  }

  #push(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= FLUSH_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    const data = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#hash.update(data);
    writeSync(this.#fd, data);
    this.bytes += data.length;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** Parent directories get their own entries first, as `docker save` layers have them. */
  #ensureDirs(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') + '/';
      if (this.#dirs.has(dir)) continue;
      this.#dirs.add(dir);
      this.#push(tarHeader(dir, 0, '5', 0o755, this.mtime));
    }
  }

  addFile(path: string, content: Uint8Array, mode = 0o644): void {
    this.#ensureDirs(path);
    this.#push(tarHeader(path, content.length, '0', mode, this.mtime));
    this.#push(Buffer.from(content.buffer, content.byteOffset, content.length));
    const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (pad) this.#push(Buffer.alloc(pad));
    this.files++;
  }

  /** Streams a file from disk as one entry (layer.tar members can exceed what one Buffer should hold). */
  addFileFromPath(path: string, source: string, mode = 0o644): void {
    const fd = openSync(source, 'r');
    try {
      const size = fstatSync(fd).size;
      this.#ensureDirs(path);
      this.#push(tarHeader(path, size, '0', mode, this.mtime));
      let offset = 0;
      while (offset < size) {
        const chunk = Buffer.allocUnsafe(Math.min(FLUSH_BYTES, size - offset));
        const read = readSync(fd, chunk, 0, chunk.length, offset);
        if (read <= 0) throw new Error(`short read of ${source}`);
        this.#push(chunk.subarray(0, read));
        offset += read;
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) this.#push(Buffer.alloc(pad));
      this.files++;
    } finally {
      closeSync(fd);
    }
  }

  /** Closes the archive; returns the sha256 of the uncompressed tar (the layer's diff_id). */
  finish(): { digest: string; bytes: number } {
    this.#push(Buffer.alloc(BLOCK * 2));
    this.#flush();
    closeSync(this.#fd);
    return { digest: `sha256:${this.#hash.digest('hex')}`, bytes: this.bytes };
  }
}
