import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isElf } from './benign-executables.ts';
import { xorshiftCrypt } from './fixture-pack.ts';
import { minimalWasmModule } from './fixture-wasm.ts';
import { buildMinerFixtures, type MinerFixture } from './fixtures.ts';

const run = promisify(execFile);
// lib is ES2023 without DOM, so the WebAssembly global is typed here with only what these tests use.
interface WasmModuleApi {
  validate(bytes: Uint8Array): boolean;
  Module: { new (bytes: Uint8Array): object; customSections(m: object, name: string): ArrayBuffer[]; exports(m: object): { name: string; kind: string }[] };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmModuleApi }).WebAssembly;
const GENESIS_HASH = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
// RandomX's own test vector (tests/tests.cpp): key "test key 000", input "This is a test".
const RANDOMX_VECTOR = '639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f';

async function miner(name: string): Promise<MinerFixture> {
  const found = (await buildMinerFixtures()).miners.find((m) => m.name === name);
  assert.ok(found, `fixture ${name} was built`);
  return found;
}

async function output(path: string, args: string[]): Promise<string> {
  return (await run(path, args, { timeout: 60_000 })).stdout;
}

describe('buildMinerFixtures', () => {
  it('builds every disguise of the miners and labels them', async () => {
    const set = await buildMinerFixtures();
    const disguises = new Set(set.miners.map((m) => m.disguise));
    for (const d of ['none', 'renamed', 'stripped', 'packed', 'obfuscated'] as const) assert.ok(disguises.has(d), d);
    for (const m of set.miners.filter((f) => f.kind === 'elf')) assert.ok(await isElf(m.path), m.name);
    assert.deepEqual(new Set(set.miners.map((m) => m.family)), new Set(['randomx', 'sha256d', 'coinhive', 'cryptonight-wasm']));
  });

  it('returns the same cached set to a second caller', async () => {
    const [a, b] = await Promise.all([buildMinerFixtures(), buildMinerFixtures()]);
    assert.equal(a.dir, b.dir);
    assert.match(a.dir, /nomine-fixtures-[0-9a-f]{16}$/);
  });

  it('pairs the miners with at least 40 real benign executables and the benign app', async () => {
    const { benign } = await buildMinerFixtures();
    assert.ok(benign.length >= 41, `only ${benign.length} benign executables`);
    for (const b of benign) assert.ok(await isElf(b.path), b.path);
    const app = benign.find((b) => b.name === 'kv-daemon');
    assert.ok(app);
    assert.equal(await output(app.path, ['--selftest']), 'VALUE hello world\n');
  });
});

describe('randomx miner fixture', () => {
  it('computes the RandomX reference hash in --benchmark mode', async () => {
    const { path } = await miner('randomx-miner');
    const out = await output(path, ['--benchmark', '--hashes=1', '--seed=test key 000', '--input=This is a test']);
    assert.match(out, new RegExp(`^hash 0: ${RANDOMX_VECTOR}$`, 'm'));
  });

  it('hashes deterministically, obfuscated or not', async () => {
    const plain = await output((await miner('randomx-miner')).path, ['--benchmark', '--hashes=2']);
    const again = await output((await miner('randomx-miner')).path, ['--benchmark', '--hashes=2']);
    const disguised = await output((await miner('php-fpm-pool')).path, ['--benchmark', '--hashes=2']);
    const hashes = (s: string) => s.match(/^hash \d: [0-9a-f]{64}$/gm);
    assert.equal(hashes(plain)?.length, 2);
    assert.deepEqual(hashes(again), hashes(plain));
    assert.deepEqual(hashes(disguised), hashes(plain));
  });

  it('carries pool, wallet, stratum and XMRig usage strings, which the obfuscated build hides', async () => {
    const plain = await readFile((await miner('randomx-miner')).path, 'latin1');
    for (const s of ['stratum+tcp://pool.minexmr.com:4444', '--donate-level', '"jsonrpc":"2.0"', 'randomx_calculate_hash']) {
      assert.ok(plain.includes(s), s);
    }
    const obfuscated = (await miner('php-fpm-pool')).path;
    const bytes = await readFile(obfuscated, 'latin1');
    for (const s of ['minexmr', '44AFFq5kSiGBoZ4NMDwYtN18', '--donate-level', 'XMRig']) assert.ok(!bytes.includes(s), s);
    const dryRun = await output(obfuscated, ['--dry-run']);
    assert.match(dryRun, /pool: stratum\+tcp:\/\/pool\.minexmr\.com:4444/);
    assert.match(dryRun, /"method":"login","params":\{"login":"44AFFq5k/);
  });
});

describe('sha256d miner fixture', () => {
  for (const name of ['sha256d-miner', 'sha256d-miner.stripped', 'sha256d-miner.static', 'app-update']) {
    it(`${name} computes the Bitcoin genesis block hash`, async (t) => {
      const found = (await buildMinerFixtures()).miners.find((m) => m.name === name);
      if (!found) return t.skip(`${name} not built on this machine`);
      assert.match(await output(found.path, ['--benchmark', '--scan=1000']), new RegExp(`^hash: ${GENESIS_HASH}$`, 'm'));
    });
  }

  it('speaks cpuminer stratum without touching the network by default', async () => {
    const out = await output((await miner('sha256d-miner')).path, []);
    for (const s of ['mining.subscribe', 'mining.authorize', 'mining.submit', '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']) {
      assert.ok(out.includes(s), s);
    }
  });

  it('leaves no miner string readable in the packed file', async () => {
    const bytes = await readFile((await miner('app-update')).path, 'latin1');
    for (const s of ['slushpool', 'mining.', 'stratum', 'sha256d']) assert.ok(!bytes.includes(s), s);
  });
});

describe('web miner fixtures', () => {
  it('writes a valid wasm module with a cryptonight custom section', async () => {
    const bytes = await readFile((await miner('cn.wasm')).path);
    assert.ok(wasm.validate(bytes));
    const module = new wasm.Module(bytes);
    assert.equal(wasm.Module.customSections(module, 'cryptonight').length, 1);
    assert.deepEqual(wasm.Module.exports(module), [{ name: 'cryptonight_hash', kind: 'function' }]);
    assert.deepEqual(bytes, Buffer.from(minimalWasmModule('cryptonight')));
  });

  it('ships a CoinHive-style loader', async () => {
    const js = await readFile((await miner('analytics.min.js')).path, 'utf8');
    for (const s of ['new CoinHive.Anonymous', 'new CryptoLoot.Anonymous', 'cryptonight.wasm', 'new Worker']) {
      assert.ok(js.includes(s), s);
    }
  });
});

describe('xorshiftCrypt', () => {
  it('is its own inverse', () => {
    const data = Buffer.from('stratum+tcp://example:3333');
    assert.deepEqual(xorshiftCrypt(xorshiftCrypt(data, 7), 7), data);
  });
});
