/**
 * Generates data/syscalls/x86_64.json (syscall number → name) from the kernel UAPI header, once, so the agent
 * needs no headers at run time. Run: `node --import tsx scripts/generate-syscall-table.ts [unistd_64.h] [out.json]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const header = process.argv[2] ?? '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const out = process.argv[3] ?? fileURLToPath(new URL('../data/syscalls/x86_64.json', import.meta.url));

const names: (string | null)[] = [];
for (const line of readFileSync(header, 'utf8').split('\n')) {
  const match = /^#define __NR_(\w+)\s+(\d+)\s*$/.exec(line);
  if (!match) continue;
  const nr = Number(match[2]);
  while (names.length <= nr) names.push(null);
  names[nr] = match[1]!;
}
if (names.length === 0) throw new Error(`${header}: no __NR_ definitions found`);

// One name per line keeps the committed file reviewable in diffs.
const body = names.map((name) => `    ${JSON.stringify(name)}`).join(',\n');
writeFileSync(out, `{\n  "schemaVersion": 1,\n  "arch": "x86_64",\n  "source": "linux/arch/x86/include/generated/uapi/asm/unistd_64.h",\n  "names": [\n${body}\n  ]\n}\n`);
console.log(`${out}: ${names.filter(Boolean).length} syscalls, highest number ${names.length - 1}`);
