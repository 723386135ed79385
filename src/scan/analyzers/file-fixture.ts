/**
 * Test support: builds the FileHead and FileContent the scanner would hand to analyzers, from bytes or a real file,
 * and runs every analyzer that wants the file, as the scanner does. Used by the analyzer tests only.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileHead } from '../file-analyzer.ts';
import type { FileContent } from '../layer-entry.ts';
import type { Signal } from '../signal.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { fileAnalyzers } from './index.ts';

export function fileFromBytes(path: string, bytes: Buffer, mode = 0o755): FileContent {
  return {
    entry: { path, type: 'file', size: bytes.length, mode },
    bytes,
    truncated: false,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    layer: 'sha256:test-layer',
  };
}

export function fileFromDisk(path: string): FileContent {
  return fileFromBytes(path.replace(/^\/+/, ''), readFileSync(path), statSync(path).mode & 0o7777);
}

export function headOf(file: FileContent): FileHead {
  return { entry: file.entry, head: file.bytes.subarray(0, 4096) };
}

export async function analyzeWithAll(file: FileContent, signatures: Signatures): Promise<Signal[]> {
  const signals: Signal[] = [];
  for (const analyzer of Object.values(fileAnalyzers)) {
    if (analyzer.wants(headOf(file))) signals.push(...(await analyzer.analyze(file, signatures)));
  }
  return signals;
}

/** Compiles a C program with the system gcc into `dir` and returns the binary's path. */
export function compileC(dir: string, name: string, source: string, flags: string[] = []): string {
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  execFileSync('gcc', ['-O1', ...flags, '-o', out, src], { stdio: 'pipe' });
  return out;
}

/** A program that prints XMRig-like usage text with a pool URL and wallet, as a real miner binary carries. */
export const minerLikeSource = String.raw`
#include <stdio.h>
static const char *usage =
  "Usage: xmrig [OPTIONS]\n"
  "  -o, --url=URL                 URL of mining server\n"
  "  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms\n"
  "      --rig-id=ID               rig identifier for pool-side statistics\n"
  "      --donate-level=N          donate level, default 1%%\n"
  "      --randomx-1gb-pages       use 1GB hugepages for RandomX dataset\n";
static const char *pool = "stratum+tcp://pool.minexmr.com:4444";
static const char *wallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
int main(int argc, char **argv) {
  printf(usage);
  printf("%s %s %s\n", pool, wallet, "mining.subscribe rx/0 cn/r");
  return argc > 5 ? argv[1][0] : 0;
}
`;
