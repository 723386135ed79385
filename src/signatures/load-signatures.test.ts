import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NomineError } from '../core/errors.ts';
import { builtinSignaturesDir, loadSignatures } from './load-signatures.ts';

const root = mkdtempSync(join(tmpdir(), 'nomine-signatures-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A fresh user signatures directory holding `files` (relative path → content). */
function userDir(files: Record<string, string>): string {
  const dir = join(root, `dir-${counter++}`);
  mkdirSync(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function loadError(dirs: string[]): Promise<NomineError> {
  try {
    await loadSignatures(dirs);
  } catch (error) {
    assert.ok(error instanceof NomineError, `expected a NomineError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loading to fail');
}

const sha = 'ab'.repeat(32);

describe('loadSignatures', () => {
  it('loads the built-in signatures from data/signatures relative to the module', async () => {
    const signatures = await loadSignatures();
    assert.ok(builtinSignaturesDir.endsWith('/data/signatures/'));
    assert.ok(signatures.yara.ruleCount >= 5);
    assert.ok(signatures.keywords.some((list) => list.id === 'stratum-url'));
    assert.ok(signatures.minerImages.has('kannix/monero-miner'));
    assert.ok(signatures.stratumPorts.has(3333));
    assert.match(signatures.version, /^sha256:[0-9a-f]{64}$/);
  });

  it('adds the hash lists of a user directory, in YAML and JSON', async () => {
    const dir = userDir({
      'intel/iocs.yaml': `schemaVersion: 1\nkind: hashes\nhashes:\n  - sha256: ${sha.toUpperCase()}\n    name: xmrig 6.21\n    family: xmrig\n`,
      'more.json': JSON.stringify({ schemaVersion: 1, kind: 'hashes', fuzzy: [{ ssdeep: '3:abc:def', name: 'x', family: 'xmrig' }] }),
    });
    const signatures = await loadSignatures([dir]);
    assert.equal(signatures.hashes.get(sha)?.name, 'xmrig 6.21');
    assert.equal(signatures.fuzzy.length, 1);
  });

  it('lets a user file shadow the built-in file with the same path, and a list shadow a list by id', async () => {
    const dir = userDir({
      'rules/cpu-miners.yar': 'rule only_mine { strings: $a = "only-mine" condition: $a }',
      'extra-keywords.yaml': 'schemaVersion: 1\nkind: keywords\nlists:\n  - id: stratum-url\n    summary: my stratum\n    strength: weak\n    literals: [my-stratum]\n',
    });
    const signatures = await loadSignatures([dir]);
    const names = signatures.yara.scan(Buffer.from('only-mine xmrig URL of mining server --donate-level --rig-id')).map((m) => m.rule);
    assert.deepEqual(names, ['only_mine'], 'the built-in cpu-miners.yar (xmrig_miner) is replaced');
    const list = signatures.keywords.find((l) => l.id === 'stratum-url');
    assert.equal(list?.summary, 'my stratum');
    assert.equal(signatures.keywords.filter((l) => l.id === 'stratum-url').length, 1);
  });

  it('changes its version when a rule file changes', async () => {
    const dir = userDir({ 'rules/a.yar': 'rule a { strings: $a = "aaaa" condition: $a }' });
    const before = (await loadSignatures([dir])).version;
    writeFileSync(join(dir, 'rules/a.yar'), 'rule a { strings: $a = "bbbb" condition: $a }');
    assert.notEqual((await loadSignatures([dir])).version, before);
  });

  it('names file and line of a YAML syntax error', async () => {
    const dir = userDir({ 'bad.yaml': 'schemaVersion: 1\nkind: hashes\nhashes: [\n  { sha256: x\n' });
    const error = await loadError([dir]);
    assert.equal(error.code, 'invalid-input');
    assert.match(error.part ?? '', /bad\.yaml:\d+$/);
  });

  it('names file and line of a malformed JSON file', async () => {
    const dir = userDir({ 'bad.json': '{\n  "schemaVersion": 1,\n  "kind": "hashes",\n  "hashes": [ }\n' });
    const error = await loadError([dir]);
    assert.match(error.part ?? '', /bad\.json:\d+$/);
  });

  it('names the line of the entry that fails validation', async () => {
    const dir = userDir({
      'iocs.yaml': `schemaVersion: 1\nkind: hashes\nhashes:\n  - sha256: ${sha}\n    name: ok\n    family: xmrig\n  - sha256: not-a-hash\n    name: bad\n    family: xmrig\n`,
    });
    const error = await loadError([dir]);
    assert.equal(error.part, `${join(dir, 'iocs.yaml')}:7`);
    assert.match(error.message, /hashes\.1\.sha256/);
  });

  it('rejects unknown kinds, newer schema versions, misspelt keys and bad regular expressions', async () => {
    for (const content of [
      'schemaVersion: 1\nkind: rules\n',
      'schemaVersion: 2\nkind: hashes\n',
      'schemaVersion: 1\nkind: hashes\nhashs: []\n',
      'schemaVersion: 1\nkind: keywords\nlists:\n  - id: x\n    summary: x\n    strength: weak\n    patterns: ["(unclosed"]\n',
      '- just\n- a list\n',
      '',
    ]) {
      const error = await loadError([userDir({ 'f.yaml': content })]);
      assert.equal(error.code, 'invalid-input', content);
      assert.match(error.part ?? '', /f\.yaml/);
    }
  });

  it('names the file and line of a YARA syntax error', async () => {
    const dir = userDir({ 'rules/broken.yar': 'rule ok { condition: true }\n\nrule broken {\n  strings: $a = "x"\n  condition: $a and\n}\n' });
    const error = await loadError([dir]);
    assert.equal(error.code, 'invalid-input');
    assert.equal(error.part, `${join(dir, 'rules/broken.yar')}:6`);
    assert.match(error.message, /syntax error/);
  });

  it('reports a missing user directory as not-found', async () => {
    const error = await loadError([join(root, 'does-not-exist')]);
    assert.equal(error.code, 'not-found');
  });
});

describe('loadSignatures with a parsed-file cache', () => {
  const hashFile = (name: string) => `schemaVersion: 1\nkind: hashes\nhashes:\n  - sha256: ${sha}\n    name: ${name}\n    family: xmrig\n`;
  const comparable = (s: Awaited<ReturnType<typeof loadSignatures>>) => ({
    version: s.version,
    hashes: [...s.hashes.values()],
    keywords: s.keywords.map((list) => ({ ...list, matcher: list.matcher.source })),
    ports: [...s.stratumPorts],
    images: [...s.minerImages.values()],
  });

  it('loads the same signatures from cached entries as from parsing, one entry per data file', async () => {
    const cacheDir = join(root, `cache-${counter++}`);
    const dir = userDir({ 'iocs.yaml': hashFile('xmrig 6.21') });
    const parsed = await loadSignatures([dir]);
    const filling = await loadSignatures([dir], { parsedCacheDir: cacheDir });
    const entries = readdirSync(cacheDir);
    assert.equal(entries.length, 4, 'keywords, miner images and hashes of the built-ins, plus the user file');
    const cached = await loadSignatures([dir], { parsedCacheDir: cacheDir });
    assert.deepEqual(readdirSync(cacheDir), entries, 'a second load writes nothing new');
    assert.deepEqual(comparable(filling), comparable(parsed));
    assert.deepEqual(comparable(cached), comparable(parsed));
  });

  it('parses an edited file again instead of serving the entry of its old content', async () => {
    const cacheDir = join(root, `cache-${counter++}`);
    const dir = userDir({ 'iocs.yaml': hashFile('old name') });
    await loadSignatures([dir], { parsedCacheDir: cacheDir });
    writeFileSync(join(dir, 'iocs.yaml'), hashFile('new name'));
    const signatures = await loadSignatures([dir], { parsedCacheDir: cacheDir });
    assert.equal(signatures.hashes.get(sha)?.name, 'new name');
  });

  it('treats a damaged entry as a miss and writes it again', async () => {
    const cacheDir = join(root, `cache-${counter++}`);
    const dir = userDir({ 'iocs.yaml': hashFile('xmrig 6.21') });
    await loadSignatures([dir], { parsedCacheDir: cacheDir });
    for (const entry of readdirSync(cacheDir)) writeFileSync(join(cacheDir, entry), entry.charCodeAt(0) % 2 ? '{"trunc' : '[1, 2]');
    const signatures = await loadSignatures([dir], { parsedCacheDir: cacheDir });
    assert.equal(signatures.hashes.get(sha)?.name, 'xmrig 6.21');
    assert.ok(signatures.minerImages.has('kannix/monero-miner'));
    for (const entry of readdirSync(cacheDir)) assert.equal(typeof (JSON.parse(readFileSync(join(cacheDir, entry), 'utf8')) as { kind: unknown }).kind, 'string');
  });

  it('loads when the cache directory cannot be created, and still names the line of an invalid file', async () => {
    const blocked = join(root, `blocked-${counter++}`);
    writeFileSync(blocked, 'a file where the cache directory would go');
    const dir = userDir({ 'iocs.yaml': hashFile('xmrig 6.21') });
    const signatures = await loadSignatures([dir], { parsedCacheDir: join(blocked, 'cache') });
    assert.equal(signatures.hashes.get(sha)?.name, 'xmrig 6.21');
    const broken = userDir({ 'bad.yaml': 'schemaVersion: 1\nkind: hashes\nhashes:\n  - sha256: nothex\n    name: x\n    family: y\n' });
    const cacheDir = join(root, `cache-${counter++}`);
    await assert.rejects(loadSignatures([broken], { parsedCacheDir: cacheDir }), (error: NomineError) => error.part === `${join(broken, 'bad.yaml')}:4`);
    await assert.rejects(loadSignatures([broken], { parsedCacheDir: cacheDir }), (error: NomineError) => error.part === `${join(broken, 'bad.yaml')}:4`, 'an invalid file is never cached');
  });
});

