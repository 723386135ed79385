/**
 * Executable kinds: which files could run (or be run by an interpreter or browser) and so deserve the deeper
 * analyzers. Decided from the first bytes and the path only, as `wants` must be cheap.
 */
import type { FileHead } from '../file-analyzer.ts';

export type ExecutableKind = 'elf' | 'script' | 'wasm' | 'javascript';

/** Whether `head` starts with the four bytes `magic`; compared in place, as this runs several times per file. */
function startsWith(head: Buffer, magic: readonly [number, number, number, number]): boolean {
  return head.length >= 4 && head[0] === magic[0] && head[1] === magic[1] && head[2] === magic[2] && head[3] === magic[3];
}

const elfMagic = [0x7f, 0x45, 0x4c, 0x46] as const;
const wasmMagic = [0x00, 0x61, 0x73, 0x6d] as const;

export function isElf(head: Buffer): boolean {
  return startsWith(head, elfMagic);
}

export function executableKind(file: FileHead): ExecutableKind | undefined {
  const { head, entry } = file;
  if (isElf(head)) return 'elf';
  if (startsWith(head, wasmMagic)) return 'wasm';
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) return 'script'; // #!
  if (/\.(?:m|c)?js$/i.test(entry.path)) return 'javascript';
  return undefined;
}
