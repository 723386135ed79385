import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNomineError } from '../core/errors.ts';
import { loadMiningPools, matchMiningPool, miningPoolsFrom, parseMiningPoolsFile } from './mining-pools.ts';

function parseError(content: string): { code: string; part?: string; message: string } {
  try {
    parseMiningPoolsFile('/etc/nomine/mining-pools.yaml', content);
  } catch (error) {
    assert.ok(isNomineError(error));
    return { code: error.code, part: error.part, message: error.message };
  }
  assert.fail('expected the file to be refused');
}

describe('mining pool lists', () => {
  it('loads the built-in stratum ports', async () => {
    const pools = await loadMiningPools();
    for (const port of [3333, 4444, 5555, 7777, 14433, 14444, 45560, 45700, 3357]) assert.ok(pools.stratumPorts.has(port), String(port));
    assert.equal(pools.stratumPorts.has(443), false);
    assert.equal(pools.stratumPorts.has(8888), false);
  });

  it('adds ports and pool networks from a user directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-pools-'));
    try {
      await writeFile(join(dir, 'mining-pools.yaml'),
        'schemaVersion: 1\nkind: mining-pools\nstratumPorts: [9999]\npools:\n  - address: 198.51.100.0/24\n    name: intel-feed\n');
      const pools = await loadMiningPools([dir, join(dir, 'absent')]);
      assert.ok(pools.stratumPorts.has(9999) && pools.stratumPorts.has(3333));
      assert.deepEqual(matchMiningPool(pools, '198.51.100.23', 443), { kind: 'address', pool: pools.pools[0] });
      assert.equal(pools.pools[0]!.name, 'intel-feed');
      assert.deepEqual(matchMiningPool(pools, '127.0.0.3', 3333), { kind: 'port', port: 3333 });
      assert.equal(matchMiningPool(pools, '10.0.0.1', 443), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('matches IPv4-mapped IPv6 destinations against IPv4 pools', () => {
    const pools = miningPoolsFrom([{ path: 'x', data: { schemaVersion: 1, kind: 'mining-pools', stratumPorts: [], pools: [{ address: '203.0.113.0/24' }] } }]);
    assert.equal(matchMiningPool(pools, '::ffff:203.0.113.9', 80)?.kind, 'address');
    assert.equal(matchMiningPool(pools, 'not an address', 80), undefined);
  });

  it('names file, line and key when an entry is invalid', () => {
    const bad = parseError('schemaVersion: 1\nkind: mining-pools\npools:\n  - address: 10.0.0.0/33\n');
    assert.equal(bad.code, 'invalid-input');
    assert.equal(bad.part, '/etc/nomine/mining-pools.yaml:4');
    assert.match(bad.message, /pools\.0\.address/);
    assert.match(parseError('schemaVersion: 1\nkind: mining-pools\nstratumPorts: [3333, 70000]\n').message, /stratumPorts\.1/);
    assert.match(parseError('schemaVersion: 1\nkind: mining-pools\nstratumPort: [3333]\n').message, /stratumPort/);
  });

  it('refuses other versions, kinds, wrong types, truncated and garbage files', () => {
    assert.match(parseError('schemaVersion: 2\nkind: mining-pools\n').message, /schemaVersion/);
    assert.match(parseError('schemaVersion: 1\nkind: keywords\n').message, /kind/);
    assert.match(parseError('schemaVersion: 1\nkind: mining-pools\nstratumPorts: "3333"\n').message, /stratumPorts/);
    assert.match(parseError('schemaVersion: 1\nkind: mining-pools\npools: [{address: ').message, /invalid mining-pools file/);
    assert.match(parseError('\u0000\u0001garbage').message, /invalid mining-pools file/);
    assert.match(parseError('- 3333\n').message, /expected an object/);
    assert.match(parseError('').message, /expected an object/);
    assert.match(parseError('schemaVersion: 1\nkind: mining-pools\nkind: mining-pools\n').message, /invalid mining-pools file/);
  });

  it('refuses an oversized file instead of reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-pools-'));
    try {
      await writeFile(join(dir, 'mining-pools.yaml'), Buffer.alloc(9 * 1024 * 1024, 0x20));
      await assert.rejects(loadMiningPools([dir]), (error: unknown) => isNomineError(error) && error.code === 'limit-exceeded');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
