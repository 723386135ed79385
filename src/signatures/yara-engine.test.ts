import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinSignaturesDir } from './load-signatures.ts';
import { compileYara, type YaraSourceFile } from './yara-engine.ts';

const rulesDir = join(builtinSignaturesDir, 'rules');
const files: YaraSourceFile[] = readdirSync(rulesDir).sort().map((name) => ({ id: `rules/${name}`, path: join(rulesDir, name), text: readFileSync(join(rulesDir, name), 'utf8') }));

// Miner traits as real miners print them; each sample should fire at least one built-in rule.
const samples = [
  'XMRig 6.21.0\n  -o, --url=URL  URL of mining server\n  --donate-level=N  donate level\n --cpu-priority  set process priority\n stratum+tcp://pool.minexmr.com:4444 donate.v2.xmrig.com rx/0',
  'var miner = new CoinHive.Anonymous("SITE_KEY", {throttle: 0.3}); miner.start(); coinhive.min.js',
  '{"id":1,"method":"mining.subscribe","params":[]} {"method":"mining.authorize"} {"method":"mining.notify"} stratum+tcp://btc.pool:3333 mining.submit',
];

test('the native and the WASM engine report the same rules and pattern offsets on the built-in rules', (t) => {
  const wasm = compileYara(files, 'wasm');
  const native = compileYara(files, 'native');
  assert.equal(wasm.engine, 'wasm');
  if (native.engine !== 'native') {
    t.skip('the native YARA-X binding does not load on this machine');
    return;
  }
  let fired = 0;
  for (const sample of samples) {
    const bytes = Buffer.from(sample, 'latin1');
    const summarise = (matches: ReturnType<typeof wasm.scan>) =>
      matches.map((match) => `${match.namespace}:${match.rule} ${match.patterns.map((p) => `${p.identifier}@${p.offsets.join(',')}`).sort().join(' ')}`).sort();
    const fromWasm = summarise(wasm.scan(bytes));
    assert.deepEqual(summarise(native.scan(bytes)), fromWasm);
    fired += fromWasm.length;
  }
  assert.ok(fired >= samples.length, 'every sample fires a rule, so the comparison compares something');
});

test('both engines find nothing in an ordinary binary', (t) => {
  const bytes = readFileSync('/bin/busybox');
  assert.deepEqual(compileYara(files, 'wasm').scan(bytes), []);
  const native = compileYara(files, 'native');
  if (native.engine !== 'native') return t.skip('no native binding');
  assert.deepEqual(native.scan(bytes), []);
});
