/**
 * Miner fixtures: builds, once per machine, the miner-like programs of test/fixtures/ in each disguise a real
 * miner wears (renamed, stripped, static, packed, obfuscated), plus a web miner and a wasm module, and pairs them
 * with benign executables. Binaries are never committed; they are compiled here into a cache directory keyed by a
 * hash of the sources, so an edited source rebuilds and concurrent test processes share one build.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listBenignExecutables, type BenignExecutable } from './benign-executables.ts';
import { packExecutable } from './fixture-pack.ts';
import { minimalWasmModule } from './fixture-wasm.ts';

const run = promisify(execFile);

export type Disguise = 'none' | 'renamed' | 'stripped' | 'static' | 'packed' | 'obfuscated';
export type MinerFamily = 'randomx' | 'sha256d' | 'coinhive' | 'cryptonight-wasm';
export type FixtureKind = 'elf' | 'javascript' | 'wasm';

export interface MinerFixture {
  name: string;
  path: string;
  family: MinerFamily;
  disguise: Disguise;
  kind: FixtureKind;
}

export type BenignFixture = BenignExecutable;

export interface FixtureSet {
  /** The cache directory holding every built fixture. */
  dir: string;
  miners: MinerFixture[];
  /** This machine's own executables plus the benign app fixture (`kv-daemon`). */
  benign: BenignFixture[];
  /** What could not be built here (e.g. no libcrypto.a for `-static`), so tests can say why a variant is missing. */
  skipped: string[];
}

export const fixturesSourceDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
/** Bump when the build recipe below changes in a way the source hash cannot see. */
const RECIPE_VERSION = 3;
const MANIFEST = 'fixtures.json';
const SOURCE_DIRS = ['miners', 'benign', 'packer', 'web'];
const PACK_SEED = 0x6e6d6e31;

interface Manifest {
  miners: Omit<MinerFixture, 'path'>[];
  benignApp: string;
  skipped: string[];
}

async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) {
    const names = await readdir(join(fixturesSourceDir, dir)).catch(() => [] as string[]);
    files.push(...names.sort().map((name) => join(fixturesSourceDir, dir, name)));
  }
  return files;
}

export async function fixturesHash(): Promise<string> {
  const hash = createHash('sha256').update(`recipe ${RECIPE_VERSION} ${process.arch}\n`);
  for (const file of await sourceFiles()) {
    hash.update(relative(fixturesSourceDir, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function gcc(out: string, source: string, flags: string[], libs: string[]): Promise<void> {
  await run('gcc', ['-O2', '-Wall', ...flags, '-o', out, join(fixturesSourceDir, source), ...libs]);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Builds every fixture into `dir` and returns the manifest; paths in it are relative to `dir`. */
async function buildInto(dir: string): Promise<Manifest> {
  const skipped: string[] = [];
  const miners: Manifest['miners'] = [];
  const add = (name: string, family: MinerFamily, disguise: Disguise, kind: FixtureKind = 'elf') =>
    miners.push({ name, family, disguise, kind });
  const p = (name: string) => join(dir, name);

  // Two CPUs here: compile in two waves rather than one long serial chain.
  await Promise.all([
    gcc(p('randomx-miner'), 'miners/randomx-miner.c', [], ['-lrandomx']),
    gcc(p('php-fpm-pool'), 'miners/randomx-miner.c', ['-DNOMINE_OBFUSCATE'], ['-lrandomx']),
    gcc(p('sha256d-miner'), 'miners/sha256d-miner.c', [], ['-lcrypto']),
    gcc(p('kv-daemon'), 'benign/kv-daemon.c', [], []),
    gcc(p('.memfd-stub'), 'packer/memfd-stub.c', [], []),
  ]);
  add('randomx-miner', 'randomx', 'none');
  add('sha256d-miner', 'sha256d', 'none');

  // The same binary under a name that blends into a process list.
  await copyFile(p('randomx-miner'), p('kswapd0'));
  add('kswapd0', 'randomx', 'renamed');

  await run('strip', ['-o', p('sha256d-miner.stripped'), p('sha256d-miner')]);
  add('sha256d-miner.stripped', 'sha256d', 'stripped');

  // Obfuscated strings, then stripped: only the RandomX imports and the JSON-RPC skeleton are left to find.
  await run('strip', [p('php-fpm-pool')]);
  add('php-fpm-pool', 'randomx', 'obfuscated');

  // Static needs libcrypto.a (libssl-dev ships it on Debian); without it the packed variant wraps a dynamic one.
  let packedPayload = p('.sha256d-obfuscated');
  try {
    await gcc(p('sha256d-miner.static'), 'miners/sha256d-miner.c', ['-static'], ['-lcrypto', '-lpthread']);
    add('sha256d-miner.static', 'sha256d', 'static');
    await gcc(packedPayload, 'miners/sha256d-miner.c', ['-static', '-DNOMINE_OBFUSCATE'], ['-lcrypto', '-lpthread']);
  } catch (error) {
    skipped.push(`static sha256d-miner: ${(error as Error).message.split('\n')[0]}`);
    await gcc(packedPayload, 'miners/sha256d-miner.c', ['-DNOMINE_OBFUSCATE'], ['-lcrypto']);
  }
  await run('strip', [packedPayload]);
  await run('strip', [p('.memfd-stub')]);
  const packed = packExecutable(await readFile(p('.memfd-stub')), await readFile(packedPayload), PACK_SEED);
  await writeFile(p('app-update'), packed, { mode: 0o755 });
  add('app-update', 'sha256d', 'packed');
  await Promise.all([rm(packedPayload), rm(p('.memfd-stub'))]);
  if (!(await exists('/usr/bin/upx')) && !(await exists('/usr/bin/upx-ucl'))) {
    skipped.push('UPX packing: upx-ucl is not packaged here; `app-update` uses the memfd packer instead');
  }

  await copyFile(join(fixturesSourceDir, 'web/coinhive-loader.js'), p('analytics.min.js'));
  add('analytics.min.js', 'coinhive', 'renamed', 'javascript');
  await writeFile(p('cn.wasm'), minimalWasmModule('cryptonight'));
  add('cn.wasm', 'cryptonight-wasm', 'none', 'wasm');

  for (const m of miners) if (m.kind === 'elf') await chmod(p(m.name), 0o755);
  return { miners, benignApp: 'kv-daemon', skipped };
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  const text = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as Manifest);
}

/**
 * Builds into a private temp dir, then renames it into place: rename is atomic, so a concurrent caller sees either
 * no cache or a complete one, and the loser of a race discards its own copy.
 */
async function ensureBuilt(root: string): Promise<{ dir: string; manifest: Manifest }> {
  const dir = join(root, `nomine-fixtures-${await fixturesHash()}`);
  const cached = await readManifest(dir);
  if (cached) return { dir, manifest: cached };
  await mkdir(root, { recursive: true });
  const staging = await mkdtemp(`${dir}.tmp-`);
  try {
    const manifest = await buildInto(staging);
    await writeFile(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    try {
      await rename(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`fixture build left no manifest in ${dir}`);
  return { dir, manifest };
}

const builds = new Map<string, Promise<FixtureSet>>();

/** Compiles (or reuses) every fixture; `cacheRoot` defaults to $TMPDIR. Memoised per process. */
export function buildMinerFixtures(options: { cacheRoot?: string; benignCount?: number } = {}): Promise<FixtureSet> {
  const root = options.cacheRoot ?? tmpdir();
  const key = `${root}\0${options.benignCount ?? ''}`;
  let build = builds.get(key);
  if (!build) {
    build = (async () => {
      const { dir, manifest } = await ensureBuilt(root);
      const machine = await listBenignExecutables(options.benignCount);
      return {
        dir,
        miners: manifest.miners.map((m) => ({ ...m, path: join(dir, m.name) })),
        benign: [...machine, { name: manifest.benignApp, path: join(dir, manifest.benignApp) }],
        skipped: manifest.skipped,
      };
    })();
    build.catch(() => builds.delete(key));
    builds.set(key, build);
  }
  return build;
}
