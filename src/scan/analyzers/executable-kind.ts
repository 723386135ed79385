/**
 * Executable kinds: which files could run (or be run by an interpreter or browser) and so deserve the deeper
 * analyzers. Decided from the first bytes and the path only, as `wants` must be cheap.
 */
import type { FileHead } from '../file-analyzer.ts';

export type ExecutableKind = 'elf' | 'script' | 'wasm' | 'javascript';

const elfMagic = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const wasmMagic = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(elfMagic);
}

export function executableKind(file: FileHead): ExecutableKind | undefined {
  const { head, entry } = file;
  if (isElf(head)) return 'elf';
  if (head.length >= 4 && head.subarray(0, 4).equals(wasmMagic)) return 'wasm';
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) return 'script'; // #!
  if (/\.(?:m|c)?js$/i.test(entry.path)) return 'javascript';
  return undefined;
}
