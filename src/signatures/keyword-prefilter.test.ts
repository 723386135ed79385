import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { contentRules } from '../scan/analyzers/content-rules.ts';
import { fileFromBytes } from '../scan/analyzers/file-fixture.ts';
import { compileKeywordList } from './keyword-matcher.ts';
import { buildKeywordPrefilter, ruledOutLists } from './keyword-prefilter.ts';
import { loadSignatures } from './load-signatures.ts';
import type { Signatures } from './signatures.ts';

/** mulberry32: a seeded generator, so a failure names a reproducible case. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Matches of every built-in list, as miners and their configs write them, plus near misses around their edges.
const samples = [
  'stratum+tcp://pool.minexmr.com:4444', 'STRATUM2+SSL://eu.pool', '-o stratum+tls://x', 'Stratum1+udp://',
  'gulf.MoneroOcean.Stream:10128', 'xmr.2MINERS.com', 'donate.v2.xmrig.com', 'zpool.ca', 'pool.supportxmr.co',
  'mining.subscribe', 'Mining.Subscribe', '{"method": "getjob"}', '"method":"login","params":{"login":"x","agent":"XMRig"}',
  '--donate-level=1', '--noCPU', '--nocpu', ' -o  stratum+ssl://p', '"donate-level": 1,', '"max-threads-hint" :',
  'new CoinHive.Anonymous("k")', 'COINHIVE.MIN.JS', 'authedmine.com', 'CRLT.Anonymous', 'minero.cc',
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
  '4AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
  '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', '1a1zp1ep5qgefi2dmptftl5slmv7divfna',
  'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5md',
  '0x52908400098527886E0F7030069857D2E4169EE7', '0x52908400098527886E0F7030069857D2E4169EE', '0X52908400098527886E0F7030069857D2E4169EE7',
  'randomx_calculate_hash_first', 'RANDOMX_CREATE_VM', 'cn_slow_hash', 'ethash_light_compute', 'kawpow_hash',
  'cryptonight', 'RandomX', 'ethash', 'GetHash', 'autolykos2', 'rx/0', 'RX/WOW', 'cn/r', 'cn-heavy/xhv', 'argon2/chukwav2', 'cn/upx2',
  'xmrig', 'XMR-STAK-RX', 'cpuminer-opt', 't-rex', 'kdevtmpfsi', 'minerd', 'pool.example.com:3333', '10.0.0.1:14444', ':4444',
];
const alphabets = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789', '0123456789abcdef', ' \n\t:/"-_.,=+{}', 'xX0/:.-'];

function randomFile(random: () => number): Buffer {
  const parts: Buffer[] = [];
  const pieces = 1 + Math.floor(random() * 12);
  for (let i = 0; i < pieces; i++) {
    const pick = random();
    if (pick < 0.25) {
      const bytes = Buffer.alloc(Math.floor(random() * 400));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(random() * 256);
      parts.push(bytes);
    } else if (pick < 0.55) {
      const alphabet = alphabets[Math.floor(random() * alphabets.length)]!;
      let text = '';
      for (let k = Math.floor(random() * 120); k > 0; k--) text += alphabet[Math.floor(random() * alphabet.length)];
      parts.push(Buffer.from(text, 'latin1'));
    } else {
      let sample = samples[Math.floor(random() * samples.length)]!;
      if (random() < 0.3) sample = sample.replace(/[a-z]/g, (c) => (random() < 0.5 ? c.toUpperCase() : c));
      if (random() < 0.2) sample = sample.slice(0, Math.max(1, Math.floor(random() * sample.length)));
      parts.push(Buffer.from(sample, 'latin1'));
    }
  }
  return Buffer.concat(parts);
}

let signatures: Signatures;
before(async () => {
  signatures = await loadSignatures();
});

/** Programs take the prefilter from the YARA rule files' pass, other files from a pass of their own: both are run. */
const analyze = (bytes: Buffer, sigs: Signatures, mode = 0o644) => contentRules.analyze(fileFromBytes('etc/miner.conf', bytes, mode), sigs);

describe('keyword prefilter', () => {
  it('never changes what the keyword lists report (generated files full of matches and near misses)', () => {
    const unfiltered = { ...signatures, keywordPrefilter: undefined };
    assert.ok(signatures.keywordRules, 'the prefilter is in force');
    const random = seeded(20261128);
    let flagged = 0;
    for (let n = 0; n < 1500; n++) {
      const bytes = randomFile(random);
      const mode = n % 2 === 0 ? 0o644 : 0o755;
      const expected = analyze(bytes, unfiltered, mode);
      assert.deepEqual(analyze(bytes, signatures, mode), expected, `file ${n} (mode ${mode.toString(8)}): ${JSON.stringify(bytes.toString('latin1'))}`);
      if ((expected as unknown[]).length > 0) flagged++;
    }
    assert.ok(flagged > 500, `the generated files exercise the lists (${flagged} flagged)`);
  });

  it('rules out every list on an ordinary program, so no expression runs there', () => {
    const bytes = readFileSync('/bin/busybox');
    assert.ok(signatures.keywordRules, 'the keyword rules are compiled');
    const ruledOut = ruledOutLists(signatures.keywordPrefilter!, signatures.keywordRules.matched(bytes), bytes);
    assert.deepEqual([...ruledOut].sort(), signatures.keywords.filter((l) => l.scopes.includes('files')).map((l) => l.id).sort());
  });

  it('runs a list it cannot read on every file, and reads the rest', () => {
    const odd = compileKeywordList({ id: 'odd', summary: 'odd', strength: 'weak', scopes: ['files'], caseSensitive: true, literals: [], patterns: ['(ab)\\1c'] }, 'test');
    const plain = compileKeywordList({ id: 'plain', summary: 'plain', strength: 'weak', scopes: ['files'], caseSensitive: false, literals: ['Needle'], patterns: [] }, 'test');
    const metadataOnly = compileKeywordList({ id: 'meta', summary: 'meta', strength: 'weak', scopes: ['image-config'], caseSensitive: false, literals: ['entrypoint'], patterns: [] }, 'test');
    const prefilter = buildKeywordPrefilter([odd, plain, metadataOnly], new Set());
    assert.equal(prefilter.plans.get('odd')!.always, true);
    assert.match(prefilter.source, /\$s0 = "needle"\n/, 'matched in lower case against lower-cased bytes');
    assert.equal(prefilter.plans.has('meta'), false, 'lists for image metadata only are not read in files');
    assert.deepEqual(ruledOutLists(prefilter, new Set(), Buffer.from('nothing here')), new Set(['plain']));
  });
});

describe('keyword rules', () => {
  it('find a factor in any case, also where it straddles two windows of a long file', () => {
    const rules = signatures.keywordRules!;
    const poolRule = signatures.keywordPrefilter!.plans.get('mining-pool-host')!.rule!;
    for (const at of [0, 1024 * 1024 - 5, 1024 * 1024, 3 * 1024 * 1024 - 1]) {
      const bytes = Buffer.alloc(3 * 1024 * 1024 + 100, 0x41);
      bytes.write('SupportXMR.Com', at, 'latin1');
      assert.ok(rules.matched(bytes).has(poolRule), `factor at ${at}`);
    }
    assert.equal(rules.matched(Buffer.alloc(2 * 1024 * 1024, 0x41)).has(poolRule), false);
    assert.deepEqual(rules.matched(Buffer.alloc(0)), new Set());
  });
});
