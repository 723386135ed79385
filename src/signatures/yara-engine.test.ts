import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinSignaturesDir } from './load-signatures.ts';
import { compileYara, type YaraScan, type YaraSourceFile } from './yara-engine.ts';

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

describe('rule files compiled together', () => {
  const file = (id: string, text: string): YaraSourceFile => ({ id, path: `/sigs/${id}`, text });
  const generated = { source: 'rule nomine_keyword_0 { strings: $a = "needle" nocase condition: $a }', names: ['nomine_keyword_0'] };
  const summarise = (scan: YaraScan) => ({ matches: scan.matches.map((m) => `${m.namespace}:${m.rule}`).sort(), generated: [...(scan.generated ?? [])].sort() });
  const engines = (t: { skip: (message: string) => void }): ('wasm' | 'native')[] => {
    if (compileYara([file('a.yar', 'rule a { condition: true }')], 'native').engine === 'native') return ['wasm', 'native'];
    t.skip('no native binding');
    return ['wasm'];
  };

  it('report each match in its own file and the generated rules apart, on either engine', (t) => {
    const files = [file('one.yar', 'rule first { strings: $a = "alpha" condition: $a }'), file('two.yar', '// rule decoy in a comment\nrule second { strings: $b = "beta" condition: $b }')];
    for (const engine of engines(t)) {
      const rules = compileYara(files, engine, generated);
      assert.deepEqual(summarise(rules.scanAll(Buffer.from('alpha beta NEEDLE'))), { matches: ['one.yar:first', 'two.yar:second'], generated: ['nomine_keyword_0'] }, engine);
      assert.deepEqual(summarise(rules.scanAll(Buffer.from('nothing'))), { matches: [], generated: [] }, engine);
    }
  });

  it('keep apart files whose rules would meet: the same rule name, a global rule', (t) => {
    const files = [
      file('a.yar', 'rule same { strings: $a = "alpha" condition: $a }'),
      file('b.yar', 'rule same { strings: $b = "beta" condition: $b }'),
      file('gate.yar', 'global rule gate { condition: filesize < 10 }\nrule small { condition: true }'),
      file('set.yar', 'rule m_one { strings: $c = "gamma" condition: $c }\nrule m_all { condition: m_one }'),
      file('late.yar', 'rule late { strings: $d = "delta" condition: $d }'),
    ];
    for (const engine of engines(t)) {
      const rules = compileYara(files, engine, generated);
      // The global rule gates only its own file's rules.
      assert.deepEqual(summarise(rules.scanAll(Buffer.from('alpha beta delta, much longer than ten bytes'))), { matches: ['a.yar:same', 'b.yar:same', 'late.yar:late'], generated: [] }, engine);
      assert.deepEqual(summarise(rules.scanAll(Buffer.from('gamma'))).matches, ['gate.yar:gate', 'gate.yar:small', 'set.yar:m_all', 'set.yar:m_one'], engine);
    }
  });

  it('still place a match when a rule name hides from the name reader', (t) => {
    const files = [file('odd.yar', 'rule /* name */ hidden { strings: $a = "alpha" condition: $a }'), file('plain.yar', 'rule plain { strings: $b = "beta" condition: $b }')];
    for (const engine of engines(t)) {
      assert.deepEqual(summarise(compileYara(files, engine, generated).scanAll(Buffer.from('alpha beta needle'))), { matches: ['odd.yar:hidden', 'plain.yar:plain'], generated: ['nomine_keyword_0'] }, engine);
    }
  });

  it('go without generated rules that do not compile, and say so', (t) => {
    for (const engine of engines(t)) {
      const rules = compileYara([file('a.yar', 'rule a { strings: $a = "alpha" condition: $a }')], engine, { source: 'rule broken {', names: ['broken'] });
      assert.deepEqual(summarise(rules.scanAll(Buffer.from('alpha'))).matches, ['a.yar:a'], engine);
      assert.equal(rules.scanAll(Buffer.from('alpha')).generated, undefined, engine);
    }
  });
});
