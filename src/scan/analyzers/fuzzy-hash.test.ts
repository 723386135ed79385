import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { ssdeepHash } from '../../signatures/ssdeep.ts';
import { tlshHash } from '../../signatures/tlsh.ts';
import { compileC, fileFromDisk, minerLikeSource } from './file-fixture.ts';
import { fuzzyHash } from './fuzzy-hash.ts';
import { sha256Hash } from './sha256-hash.ts';

const dir = mkdtempSync(join(tmpdir(), 'nomine-fuzzy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let signatures: Signatures;
let minerPath: string;

before(async () => {
  // The "published" miner build, and a threat-intel list describing it by SHA-256, TLSH and ssdeep.
  minerPath = compileC(dir, 'miner', minerLikeSource);
  const bytes = readFileSync(minerPath);
  const intel = join(dir, 'intel');
  mkdirSync(intel);
  const sha = fileFromDisk(minerPath).sha256;
  writeFileSync(
    join(intel, 'iocs.yaml'),
    [
      'schemaVersion: 1',
      'kind: hashes',
      'hashes:',
      `  - { sha256: ${sha}, name: test-miner, family: xmrig, reference: "test list" }`,
      'fuzzy:',
      `  - { tlsh: "T1${tlshHash(bytes)}", name: test-miner-tlsh, family: xmrig }`,
      `  - { ssdeep: "${ssdeepHash(bytes)}", name: test-miner-ssdeep, family: xmrig }`,
    ].join('\n'),
  );
  signatures = await loadSignatures([intel]);
});

describe('known and fuzzy hashes', () => {
  it('identifies the listed build by SHA-256 (conclusive)', async () => {
    const signals = await sha256Hash.analyze(fileFromDisk(minerPath), signatures);
    assert.equal(signals[0]?.rule, 'hash.known-miner');
    assert.equal(signals[0]?.strength, 'conclusive');
    assert.match(signals[0]?.summary ?? '', /known miner test-miner \(xmrig\).*test list/);
  });

  it('identifies a rebuilt variant with another wallet by fuzzy hash, with the distance', async () => {
    const variant = compileC(dir, 'variant', minerLikeSource.replace('pool.minexmr.com:4444', 'pool.supportxmr.com:3333').replace('44AFFq5k', '48AFFq5k'));
    assert.deepEqual(await sha256Hash.analyze(fileFromDisk(variant), signatures), []);
    const signals = await fuzzyHash.analyze(fileFromDisk(variant), signatures);
    const tlsh = signals.find((s) => s.rule === 'fuzzy.tlsh');
    assert.ok(tlsh && tlsh.strength !== 'weak');
    assert.match(tlsh.summary, /is \d+ from known miner test-miner-tlsh/);
    const ssdeep = signals.find((s) => s.rule === 'fuzzy.ssdeep');
    assert.ok(ssdeep, 'ssdeep matches as well');
    assert.match(ssdeep.summary, /with score \d+/);
  });

  it('does not match unrelated programs', async () => {
    assert.deepEqual(await fuzzyHash.analyze(fileFromDisk('/usr/bin/ls'), signatures), []);
  });

  it('does nothing when no list has fuzzy entries', async () => {
    const builtins = await loadSignatures();
    assert.deepEqual(await fuzzyHash.analyze(fileFromDisk(minerPath), builtins), []);
  });
});
