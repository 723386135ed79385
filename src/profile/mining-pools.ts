/**
 * Mining pools: the stratum ports and pool networks a connection is judged against before any profile. The
 * built-in list (data/runtime/mining-pools.yaml) plus a `mining-pools.yaml` in each user directory, which adds to
 * it. Files are validated with zod; an invalid one aborts the load with a NomineError naming file, line and key.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { NomineError, toNomineError } from '../core/errors.ts';
import { lineOfPath } from '../signatures/parse-signature-file.ts';
import { formatRange, parseAddress, parseRange, rangeContains, type AddressRange } from './address-range.ts';

export const builtinMiningPoolsFile = fileURLToPath(new URL('../../data/runtime/mining-pools.yaml', import.meta.url));
export const miningPoolsFileName = 'mining-pools.yaml';
/** A pool list larger than this is a mistake (a feed dumped in the wrong format), not a list. */
const maxMiningPoolsFileBytes = 8 * 1024 * 1024;

const text = z.string().trim().min(1);

const poolEntry = z.strictObject({
  address: z
    .string()
    .trim()
    .refine((value) => parseRange(value) !== undefined, 'expected an IP address or CIDR block (203.0.113.7, 198.51.100.0/24, 2001:db8::/32)'),
  name: text.optional(),
  reference: text.optional(),
});

export const miningPoolsFileSchema = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal('mining-pools'),
  description: z.string().optional(),
  stratumPorts: z.array(z.number().int().min(1).max(65535)).default([]),
  pools: z.array(poolEntry).default([]),
});
export type MiningPoolsFile = z.infer<typeof miningPoolsFileSchema>;

export interface MiningPool {
  range: AddressRange;
  /** Canonical spelling of the address or block. */
  address: string;
  name?: string;
  reference?: string;
  /** File it came from, for the alert. */
  source: string;
}

export interface MiningPools {
  stratumPorts: ReadonlySet<number>;
  pools: readonly MiningPool[];
  files: readonly string[];
}

export type PoolMatch = { kind: 'address'; pool: MiningPool } | { kind: 'port'; port: number };

export function emptyMiningPools(): MiningPools {
  return { stratumPorts: new Set(), pools: [], files: [] };
}

/** Parses one mining-pools file (YAML or JSON); errors are `invalid-input` with `part` = `file:line`. */
export function parseMiningPoolsFile(path: string, content: string): MiningPoolsFile {
  const counter = new LineCounter();
  const doc = parseDocument(content, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line ?? counter.linePos(syntax.pos[0]).line;
    throw new NomineError('invalid-input', `invalid mining-pools file: ${syntax.message.split('\n')[0]}`, `${path}:${line}`);
  }
  if (!isMap(doc.contents)) {
    throw new NomineError('invalid-input', 'invalid mining-pools file: expected an object with schemaVersion and kind', path);
  }
  const result = miningPoolsFileSchema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const line = lineOfPath(doc, counter, issue.path);
    const key = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
    throw new NomineError('invalid-input', `invalid mining-pools file: ${key}${issue.message}${more}`, line ? `${path}:${line}` : path);
  }
  return result.data;
}

/** Merges parsed files, in order; later files add ports and pools. */
export function miningPoolsFrom(files: readonly { path: string; data: MiningPoolsFile }[]): MiningPools {
  const stratumPorts = new Set<number>();
  const pools = new Map<string, MiningPool>();
  for (const { path, data } of files) {
    for (const port of data.stratumPorts) stratumPorts.add(port);
    for (const entry of data.pools) {
      const range = parseRange(entry.address)!;
      const address = formatRange(range);
      // Same block twice: the later file's name and reference win, as a user file shadows a built-in entry.
      pools.set(address, { range, address, name: entry.name, reference: entry.reference, source: path });
    }
  }
  return { stratumPorts, pools: [...pools.values()], files: files.map((file) => file.path) };
}

async function readPoolsFile(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isFile()) throw new NomineError('invalid-input', 'not a file', path);
  if (info.size > maxMiningPoolsFileBytes) {
    throw new NomineError('limit-exceeded', `mining-pools file is larger than ${maxMiningPoolsFileBytes} bytes`, path);
  }
  return readFile(path, 'utf8');
}

/** The built-in list plus `mining-pools.yaml` from each user directory that has one. */
export async function loadMiningPools(userDirs: readonly string[] = []): Promise<MiningPools> {
  const files: { path: string; data: MiningPoolsFile }[] = [];
  for (const path of [builtinMiningPoolsFile, ...userDirs.map((dir) => join(dir, miningPoolsFileName))]) {
    let content: string;
    try {
      content = await readPoolsFile(path);
    } catch (error) {
      if (path !== builtinMiningPoolsFile && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw toNomineError(error, path);
    }
    files.push({ path, data: parseMiningPoolsFile(path, content) });
  }
  return miningPoolsFrom(files);
}

/** A known pool network first (the stronger evidence), then a stratum port. */
export function matchMiningPool(pools: MiningPools, address: string, port: number): PoolMatch | undefined {
  const parsed = parseAddress(address);
  if (parsed) {
    for (const pool of pools.pools) if (rangeContains(pool.range, parsed)) return { kind: 'address', pool };
  }
  if (pools.stratumPorts.has(port)) return { kind: 'port', port };
  return undefined;
}
