/**
 * Detection rate and false positives of `nomine scan`, measured as a user would: every miner fixture in one root
 * file system, every benign fixture (this machine's own executables and the kv-daemon app) in another, both scanned
 * through the built CLI. The figures are printed as test diagnostics, ready to copy into the README.
 */
import { strict as assert } from 'node:assert';
import { copyFile, link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildMinerFixtures, type FixtureSet, type MinerFixture } from '../helpers/fixtures.ts';
import { describeRun, parseStdout, runCli, tempHome, type CliResult } from '../helpers/run-cli.ts';

interface Finding {
  path: string;
  verdict: 'malicious' | 'suspicious';
  severity: string;
  evidence: { rule: string }[];
}
interface JsonReport {
  findings: Finding[];
  images: { error?: unknown; problems: { code: string; part: string; message: string }[] }[];
}

/** Hard links (no copy of node or python3) when the fixture cache is on the same file system, else a copy. */
async function place(from: string, to: string): Promise<void> {
  await link(from, to).catch(() => copyFile(from, to));
}

const percent = (part: number, whole: number) => `${whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10}%`;

describe('detection rate and false positives of nomine scan over the fixture set', { timeout: 240_000 }, () => {
  let work: string;
  let home: string;
  let fixtures: FixtureSet;
  let minerRun: CliResult;
  let benignRun: CliResult;
  let minerFindings: Map<string, Finding>;
  let benignFindings: Finding[];
  const benignAt = new Map<string, string>();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'nomine-e2e-detection-'));
    home = await tempHome();
    fixtures = await buildMinerFixtures();
    await mkdir(join(work, 'miners/opt/miners'), { recursive: true });
    await mkdir(join(work, 'benign/opt/benign'), { recursive: true });
    for (const miner of fixtures.miners) await place(miner.path, join(work, 'miners/opt/miners', miner.name));
    for (const benign of fixtures.benign) {
      let name = benign.name;
      for (let n = 2; benignAt.has(`/opt/benign/${name}`); n += 1) name = `${benign.name}.${n}`;
      benignAt.set(`/opt/benign/${name}`, benign.path);
      await place(benign.path, join(work, 'benign/opt/benign', name));
    }
    // The layer cache is not involved (a rootfs: directory is never cached); both scans share one data directory.
    [minerRun, benignRun] = await Promise.all([
      runCli(['scan', `rootfs:${join(work, 'miners')}`, '--json'], { home, timeoutMs: 180_000 }),
      runCli(['scan', `rootfs:${join(work, 'benign')}`, '--json'], { home, timeoutMs: 180_000 }),
    ]);
    const miners = parseStdout<JsonReport>(minerRun);
    const benign = parseStdout<JsonReport>(benignRun);
    minerFindings = new Map(miners.findings.map((finding) => [finding.path.replace('/opt/miners/', ''), finding]));
    benignFindings = benign.findings;
  });

  after(async () => {
    if (home) await rm(home, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('scans both images in full (miners: exit 1; benign: no error)', () => {
    assert.equal(minerRun.code, 1, describeRun(minerRun));
    assert.notEqual(benignRun.code, 2, describeRun(benignRun));
    for (const run of [minerRun, benignRun]) assert.deepEqual(parseStdout<JsonReport>(run).images.map((image) => image.error), [undefined]);
  });

  it('reports the figures', (t) => {
    const flagged = fixtures.miners.filter((miner) => minerFindings.has(miner.name));
    const malicious = fixtures.miners.filter((miner) => minerFindings.get(miner.name)?.verdict === 'malicious');
    t.diagnostic(`nomine scan detection: ${flagged.length}/${fixtures.miners.length} miners flagged (${percent(flagged.length, fixtures.miners.length)}), ${malicious.length} malicious; false positives ${benignFindings.length}/${fixtures.benign.length} benign executables (${percent(benignFindings.length, fixtures.benign.length)})`);
    t.diagnostic('| miner fixture | family | disguise | verdict | severity |');
    t.diagnostic('|---|---|---|---|---|');
    for (const miner of fixtures.miners) {
      const finding = minerFindings.get(miner.name);
      t.diagnostic(`| ${miner.name} | ${miner.family} | ${miner.disguise} | ${finding?.verdict ?? 'MISSED'} | ${finding?.severity ?? '-'} |`);
    }
    for (const finding of benignFindings) t.diagnostic(`false positive: ${benignAt.get(finding.path) ?? finding.path}: ${finding.verdict} ${finding.severity} (${finding.evidence.map((signal) => signal.rule).join(', ')})`);
    for (const reason of fixtures.skipped) t.diagnostic(`fixture not built here: ${reason}`);
  });

  it('flags at least 90% of the miner fixtures as malicious or suspicious', () => {
    const missed = fixtures.miners.filter((miner) => !minerFindings.has(miner.name));
    const rate = (fixtures.miners.length - missed.length) / fixtures.miners.length;
    assert.ok(rate >= 0.9, `detection ${percent(fixtures.miners.length - missed.length, fixtures.miners.length)}; missed: ${missed.map(describeMiner).join(', ')}`);
  });

  it('flags every plain, renamed and stripped miner as malicious', () => {
    const plain = fixtures.miners.filter((miner) => ['none', 'renamed', 'stripped'].includes(miner.disguise));
    assert.ok(plain.length >= 4, `the fixture set has plain, renamed and stripped variants: ${plain.map(describeMiner).join(', ')}`);
    const notMalicious = plain.filter((miner) => minerFindings.get(miner.name)?.verdict !== 'malicious');
    assert.deepEqual(notMalicious.map(describeMiner), []);
  });

  it('flags none of the benign executables', () => {
    assert.ok(fixtures.benign.length >= 40, `enough benign executables to mean something: ${fixtures.benign.length}`);
    assert.deepEqual(benignFindings.map((finding) => `${benignAt.get(finding.path) ?? finding.path}: ${finding.verdict}`), []);
  });
});

function describeMiner(miner: MinerFixture): string {
  return `${miner.name} (${miner.family}, ${miner.disguise})`;
}
