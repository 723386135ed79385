/**
 * Syscall names: number → name for x86_64, from data/syscalls/x86_64.json (generated once from the kernel UAPI
 * header by scripts/generate-syscall-table.ts, so nothing reads headers at run time). Numbers the table does not
 * know (syscalls newer than the header, garbage) get a stable stand-in name, `syscall_<n>`, so counts are never lost.
 */
import { readFileSync } from 'node:fs';

export const syscallTablePath = new URL('../../data/syscalls/x86_64.json', import.meta.url);

export interface SyscallTable {
  schemaVersion: 1;
  arch: string;
  /** Indexed by syscall number; null where the number is unassigned. */
  names: (string | null)[];
}

export type SyscallNamer = (nr: number) => string;

/** Validates the table's shape; throws on anything else so a broken data file fails at start, not mid-stream. */
export function parseSyscallTable(json: unknown): SyscallTable {
  const table = json as Partial<SyscallTable> | null;
  if (!table || typeof table !== 'object' || table.schemaVersion !== 1 || typeof table.arch !== 'string' || !Array.isArray(table.names)) {
    throw new Error('syscall table: expected { schemaVersion: 1, arch, names: [] }');
  }
  for (const [i, name] of table.names.entries()) {
    if (name !== null && (typeof name !== 'string' || !/^\w+$/.test(name))) throw new Error(`syscall table: entry ${i} is not a name`);
  }
  return table as SyscallTable;
}

export function syscallNamer(table: SyscallTable): SyscallNamer {
  const names = table.names;
  return (nr) => (Number.isInteger(nr) && nr >= 0 && nr < names.length && names[nr]) || `syscall_${nr}`;
}

let x86_64: SyscallNamer | undefined;

/** The x86_64 namer, loaded on first use. */
export function x86_64SyscallName(nr: number): string {
  x86_64 ??= syscallNamer(parseSyscallTable(JSON.parse(readFileSync(syscallTablePath, 'utf8'))));
  return x86_64(nr);
}
