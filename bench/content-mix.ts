/**
 * What the benchmark image is made of: real system binaries copied with a small mutation each (so every copy has
 * its own SHA-256 and a cache keyed by content cannot skip it), text files sliced from a generated corpus, and
 * incompressible random data. A seeded PRNG makes the mix repeatable for a given size.
 */
import { createCipheriv } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: small, fast, seeded; Math.random would make two builds of one size differ. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BINARY_DIRS = ['/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu'];
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Real ELF files of this machine, sorted by path, between 16 KiB and 4 MiB, up to `maxBytes` in total. */
export function loadBinaryPool(maxBytes: number): { name: string; bytes: Buffer }[] {
  const pool: { name: string; bytes: Buffer }[] = [];
  let total = 0;
  for (const dir of BINARY_DIRS) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (!info?.isFile() || info.size < 16 * 1024 || info.size > 4 * 1024 * 1024) continue;
      const bytes = readFileSync(path);
      if (!bytes.subarray(0, 4).equals(ELF_MAGIC)) continue;
      pool.push({ name, bytes });
      total += bytes.length;
      if (total >= maxBytes) return pool;
    }
  }
  return pool;
}

/** A copy that differs from the original in its last 8 bytes (past the ELF header, so it stays an ELF). */
export function mutatedCopy(original: Buffer, copy: number): Buffer {
  const out = Buffer.from(original);
  out.writeBigUInt64LE(BigInt(copy) ^ 0x5a5a5a5an, out.length - 8);
  return out;
}

const WORDS = (
  'the server config listen port worker timeout cache user group path log level info debug warn error request ' +
  'response header body json yaml value key enable disable module import export function return class const let ' +
  'string number boolean array object index table column select insert update delete where order limit offset ' +
  'http https localhost socket thread process memory buffer stream file directory mount volume image layer build'
).split(' ');

/** A few MiB of line-structured text (configs, logs, source-like lines) that text files are sliced from. */
export function textCorpus(bytes: number, random: () => number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const count = 3 + Math.floor(random() * 12);
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    const style = n++ % 4;
    const line =
      style === 0 ? `${words[0]}_${words[1]} = "${words.slice(2).join(' ')}"`
      : style === 1 ? `2024-05-${String(1 + (n % 28)).padStart(2, '0')}T12:00:${String(n % 60).padStart(2, '0')}Z ${words.join(' ')}`
      : style === 2 ? `  ${words[0]}(${words.slice(1, 3).join(', ')}) { return ${words.slice(3).join('.')}; }`
      : `# ${words.join(' ')}`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Incompressible bytes from an AES-CTR keystream: fast, and deterministic for a given seed. */
export function randomBytesSeeded(length: number, seed: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed >>> 0, 0);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}
