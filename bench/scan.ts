/**
 * `npm run bench:scan`: how fast `nomine scan` reads a large image, against the floor (gunzip + untar + sha256sum of
 * every file, the least any scanner must do) and against yara and clamscan running comparable rules on the
 * extracted tree. One run measures all, prints a table and writes bench/results/scan.json.
 *
 * Options: --size-gb N (or NOMINE_BENCH_SIZE_GB; default 1.1) for the uncompressed layer bytes, --work-dir DIR
 * (or NOMINE_BENCH_DIR; default /tmp/nomine-bench) where the image is cached, --skip-nomine, --skip-peers (reuses
 * the peers' rows of the last results on the same image), --cli PATH (or NOMINE_BENCH_CLI; default bin/nomine.js)
 * to measure another build of the CLI, --runs N (or NOMINE_BENCH_RUNS; default 1): N rounds of every contender,
 * each row keeping its fastest round, so other work on a shared machine weighs less on any one contender.
 * Progress goes to stderr; the table to stdout.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildMinerFixtures } from '../test/helpers/fixtures.ts';
import { buildBenchImage, type BenchImage } from './image-builder.ts';
import { timedRun, type TimedRun } from './timed-run.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (message: string) => process.stderr.write(`[bench:scan] ${message}\n`);

const { values: options } = parseArgs({
  options: {
    'size-gb': { type: 'string', default: process.env.NOMINE_BENCH_SIZE_GB ?? '1.1' },
    'work-dir': { type: 'string', default: process.env.NOMINE_BENCH_DIR ?? '/tmp/nomine-bench' },
    'skip-nomine': { type: 'boolean', default: false },
    'skip-peers': { type: 'boolean', default: false },
    runs: { type: 'string', default: process.env.NOMINE_BENCH_RUNS ?? '1' },
    cli: { type: 'string', default: process.env.NOMINE_BENCH_CLI ?? join(fileURLToPath(new URL('..', import.meta.url)), 'bin/nomine.js') },
  },
});
const cliEntry = options.cli!;

interface Contender {
  name: string;
  run: TimedRun;
  /** Bytes this contender is credited with; always the uncompressed layer bytes, so MB/s compare. */
  findings?: number;
  plantedFound?: string[];
  note?: string;
}

function mbPerSecond(bytes: number, seconds: number): number {
  return bytes / 1024 ** 2 / seconds;
}

/** Applies whiteouts after a plain `tar -x` of the layers, so peers see the final filesystem nomine judges. */
function applyWhiteouts(root: string): void {
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.wh.')) {
        rmSync(path, { force: true });
        if (entry.name !== '.wh..wh..opq') rmSync(join(dir, entry.name.slice(4)), { recursive: true, force: true });
      } else if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
}

function plantedIn(text: string, image: BenchImage): string[] {
  return image.planted.filter((p) => !p.deleted && text.includes(p.path)).map((p) => p.path);
}

/** nomine's rule files if both peers can load them; else the bench's own equivalents (and say so). */
function chooseRules(scratch: string): { yara: string[]; clamscan: string[]; notes: string[] } {
  const notes: string[] = [];
  const dir = join(repoRoot, 'data/signatures/rules');
  const own = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yar')).sort().map((f) => join(dir, f)) : [];
  const fallback = [join(repoRoot, 'bench/rules/miner-peer.yar')];
  const empty = join(scratch, 'empty');
  writeFileSync(empty, '');
  const loads = (command: string, args: string[]) => {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (own.length === 0) notes.push('data/signatures/rules/*.yar absent: peers ran bench/rules/miner-peer.yar');
  const yaraOk = own.length > 0 && loads('yara', ['-w', ...own, empty]);
  const clamOk = own.length > 0 && loads('clamscan', ['--no-summary', ...own.flatMap((f) => ['-d', f]), empty]);
  if (own.length > 0 && !yaraOk) notes.push("yara 4.2 could not load nomine's rules: yara ran bench/rules/miner-peer.yar");
  if (own.length > 0 && !clamOk) notes.push("clamscan could not load nomine's rules: clamscan ran bench/rules/miner-peer.yar");
  return { yara: yaraOk ? own : fallback, clamscan: clamOk ? own : fallback, notes };
}

/** The floor's first half, and the first step of every peer: the gzip layers extracted into `tree`. */
function runExtract(image: BenchImage, tree: string, out: string): Promise<TimedRun> {
  const untar = image.gzipLayers.map((layer) => `tar -xzf '${layer}' -C '${tree}'`).join(' && ');
  return timedRun('bash', ['-c', untar], join(out, 'floor-extract.out'));
}

/** The floor's second half: SHA-256 of every extracted file. */
function runHash(tree: string, out: string): Promise<TimedRun> {
  return timedRun('bash', ['-c', `find '${tree}' -type f -print0 | xargs -0 sha256sum`], join(out, 'floor-hash.out'));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : Number(((sorted[middle - 1]! + sorted[middle]!) / 2).toFixed(2));
}

function combine(a: TimedRun, b: TimedRun): TimedRun {
  return {
    ...b,
    seconds: a.seconds + b.seconds,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    stealSeconds: a.stealSeconds + b.stealSeconds,
    peakRssMb: Math.max(a.peakRssMb, b.peakRssMb),
    exitCode: a.exitCode || b.exitCode,
  };
}

async function runNomine(source: string, home: string, out: string, label: string, image: BenchImage): Promise<Contender> {
  const run = await timedRun('node', [cliEntry, 'scan', source, '--json'], join(out, `${label}.json`), {
    ...process.env,
    NOMINE_HOME: home,
  });
  let findings: number | undefined;
  let note: string | undefined;
  const text = readFileSync(run.stdoutPath, 'utf8');
  try {
    findings = (JSON.parse(text) as { findings: unknown[] }).findings.length;
  } catch {
    note = `exit ${run.exitCode}, no JSON on stdout: ${run.stderrTail.split('\n').slice(-3).join(' ')}`;
  }
  if (run.exitCode === 2) note = `exit 2 (error): ${run.stderrTail.split('\n').slice(-3).join(' ')}`;
  return { name: label, run, findings, plantedFound: plantedIn(text, image), note };
}

function table(rows: Contender[], bytes: number): string {
  const header = ['contender', 'seconds', 'CPU s', 'steal s', 'MB/s', 'peak RSS MB', 'findings', 'planted found', 'note'];
  const lines = rows.map((r) => [
    r.name,
    r.run.seconds.toFixed(1),
    r.run.cpuSeconds.toFixed(1),
    r.run.stealSeconds.toFixed(1),
    mbPerSecond(bytes, r.run.seconds).toFixed(0),
    r.run.peakRssMb.toFixed(0),
    r.findings === undefined ? '-' : String(r.findings),
    r.plantedFound === undefined ? '-' : String(r.plantedFound.length),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}

/** Asks the CLI itself (bin/nomine.js exits 2 until `npm run build` has produced dist/), not a guessed path. */
function nomineUnavailable(): string | undefined {
  try {
    execFileSync('node', [cliEntry, 'scan', '--help'], { stdio: 'pipe', timeout: 60_000 });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    return stderr.split('\n')[0] || 'bin/nomine.js scan --help failed (run `npm run build`)';
  }
}

interface ResultRow {
  name: string;
  seconds: number;
  cpuSeconds?: number;
  stealSeconds?: number;
  peakRssMb: number;
  exitCode: number;
  findings?: number;
  plantedFound?: string[];
  note?: string;
}
const resultsPath = join(repoRoot, 'bench/results/scan.json');

/** With --skip-peers, the peers' rows of the last run on the same image are carried over, so a nomine-only
 * rerun (e.g. after `npm run build`) still yields every ratio without re-running minutes of peer tools. */
function previousPeerRows(image: BenchImage): Contender[] {
  if (!existsSync(resultsPath)) return [];
  const previous = JSON.parse(readFileSync(resultsPath, 'utf8')) as { image?: { layerBytes?: number }; runs?: ResultRow[] };
  if (previous.image?.layerBytes !== image.layerBytes) return [];
  return (previous.runs ?? [])
    .filter((r) => !r.name.startsWith('nomine'))
    .map((r) => ({
      name: r.name,
      run: { seconds: r.seconds, cpuSeconds: r.cpuSeconds ?? 0, stealSeconds: r.stealSeconds ?? 0, peakRssMb: r.peakRssMb, exitCode: r.exitCode, stdoutPath: '', stderrTail: '' },
      findings: r.findings,
      plantedFound: r.plantedFound,
      note: 'carried over from the previous run',
    }));
}

async function main(): Promise<void> {
  const sizeGb = Number(options['size-gb']);
  if (!(sizeGb > 0)) throw new Error(`--size-gb must be a positive number, got ${options['size-gb']}`);
  const workDir = options['work-dir']!;
  mkdirSync(workDir, { recursive: true });
  log('building miner fixtures');
  const fixtures = await buildMinerFixtures();
  const image = await buildBenchImage(workDir, sizeGb, fixtures, log);
  const present = image.planted.filter((p) => !p.deleted).length;
  log(`image: ${(image.layerBytes / 1024 ** 3).toFixed(2)} GiB of layers (${(image.gzipBytes / 1024 ** 3).toFixed(2)} GiB gzip), ${image.files} files, ${image.planted.length} miners planted (${present} not deleted)`);

  const scratch = mkdtempSync(join(workDir, 'run-'));
  const out = join(scratch, 'out');
  mkdirSync(out);
  const rows: Contender[] = [];
  const notes: string[] = [];
  const rules = chooseRules(scratch);
  notes.push(...rules.notes);

  const runs = Number(options.runs);
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`--runs must be a positive integer, got ${options.runs}`);
  /** Every round per contender, in round order, for the paired ratios below. */
  const rounds = new Map<string, { seconds: number; cpuSeconds: number; stealSeconds: number }[]>();
  /** Keeps, per contender, the fastest of its rounds. */
  const keep = (contender: Contender) => {
    const { seconds, cpuSeconds, stealSeconds } = contender.run;
    const round = { seconds: Number(seconds.toFixed(2)), cpuSeconds: Number(cpuSeconds.toFixed(2)), stealSeconds: Number(stealSeconds.toFixed(2)) };
    rounds.set(contender.name, [...(rounds.get(contender.name) ?? []), round]);
    const index = rows.findIndex((row) => row.name === contender.name);
    if (index === -1) rows.push(contender);
    else if (contender.run.seconds < rows[index]!.run.seconds) rows[index] = contender;
  };
  const cliProblem = options['skip-nomine'] ? 'skipped (--skip-nomine)' : nomineUnavailable();
  if (cliProblem) notes.push(`nomine not measured: ${cliProblem}`);
  if (options['skip-peers']) rows.push(...previousPeerRows(image));

  // Every input read once before any timing, so round 1 is not the only one to read from disk.
  log('reading the image inputs once (page cache)');
  for (const path of [image.archive, image.gzipArchive, ...image.gzipLayers]) await pipeline(createReadStream(path), new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    for (let round = 1; round <= runs; round++) {
      const of = runs > 1 ? ` (round ${round} of ${runs})` : '';
      const tree = join(scratch, 'tree');
      const nomineGzip = async () => {
        const gzipHome = mkdtempSync(join(scratch, 'home-gz-'));
        log(`nomine cold on the gzip-layer docker-archive${of}`);
        keep(await runNomine(`docker-archive:${image.gzipArchive}`, gzipHome, out, 'nomine cold gzip', image));
        rmSync(gzipHome, { recursive: true, force: true });
      };
      // nomine's gzip scan and extract + yara run back to back, in turn first (ABBA): the machine's speed drifts
      // within minutes, and a steady drift then favours neither side over the rounds.
      const nomineFirst = round % 2 === 0;
      if (!cliProblem && nomineFirst) await nomineGzip();
      let extract: TimedRun | undefined;
      if (!options['skip-peers']) {
        rmSync(tree, { recursive: true, force: true });
        mkdirSync(tree);
        log(`floor: tar -xzf of the gzip layers${of}`);
        extract = await runExtract(image, tree, out);
        keep({ name: 'floor: tar -xzf', run: extract });
        applyWhiteouts(tree);

        log(`yara -r with ${rules.yara.map((f) => relative(repoRoot, f)).join(', ')}${of}`);
        const yara = await timedRun('yara', ['-w', '-r', ...rules.yara, tree], join(out, 'yara.out'));
        const yaraText = readFileSync(yara.stdoutPath, 'utf8');
        const yaraFiles = new Set(yaraText.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1)));
        keep({ name: 'yara -r (tree)', run: yara, findings: yaraFiles.size, plantedFound: plantedIn(yaraText, image) });
        keep({ name: 'tar -xzf + yara', run: combine(extract, yara) });
      }
      if (!cliProblem && !nomineFirst) await nomineGzip();
      if (extract) {
        log(`floor: sha256sum of every extracted file${of}`);
        const hash = await runHash(tree, out);
        keep({ name: 'floor: sha256sum', run: hash });
        keep({ name: 'floor: total', run: combine(extract, hash) });

        log(`clamscan -r with ${rules.clamscan.map((f) => relative(repoRoot, f)).join(', ')}${of}`);
        const clam = await timedRun('clamscan', ['--no-summary', '-i', '-r', ...rules.clamscan.flatMap((f) => ['-d', f]), tree], join(out, 'clamscan.out'));
        const clamText = readFileSync(clam.stdoutPath, 'utf8');
        const clamFound = clamText.split('\n').filter((l) => l.endsWith(' FOUND'));
        keep({ name: 'clamscan -r (tree)', run: clam, findings: clamFound.length, plantedFound: plantedIn(clamText, image) });
        keep({ name: 'tar -xzf + clamscan', run: combine(extract, clam) });
        rmSync(tree, { recursive: true, force: true });
      }

      if (!cliProblem) {
        const home = mkdtempSync(join(scratch, 'home-'));
        log(`nomine cold (uncompressed docker-archive, empty NOMINE_HOME)${of}`);
        keep(await runNomine(`docker-archive:${image.archive}`, home, out, 'nomine cold', image));
        log(`nomine warm (same NOMINE_HOME: layer cache)${of}`);
        keep(await runNomine(`docker-archive:${image.archive}`, home, out, 'nomine warm', image));
        rmSync(home, { recursive: true, force: true });
      }
    }
  } finally {
    // Outputs of the runs are small except the extracted tree (already removed); keep nomine's JSON for a look.
  }

  const seconds = (name: string) => rows.find((r) => r.name === name)?.run.seconds;
  const ratio = (a?: number, b?: number) => (a && b ? Number((b / a).toFixed(2)) : null);
  // Each ratio reads "how many times faster the first is": > 1 means nomine is faster.
  const compared: Record<string, [string, string]> = {
    nomineVsFloor: ['nomine cold gzip', 'floor: total'],
    nomineUncompressedVsFloor: ['nomine cold', 'floor: total'],
    nomineVsYaraTree: ['nomine cold', 'yara -r (tree)'],
    nomineVsExtractPlusYara: ['nomine cold gzip', 'tar -xzf + yara'],
    nomineVsClamscanTree: ['nomine cold', 'clamscan -r (tree)'],
    nomineVsExtractPlusClamscan: ['nomine cold gzip', 'tar -xzf + clamscan'],
    warmVsCold: ['nomine warm', 'nomine cold'],
  };
  const ratios = Object.fromEntries(Object.entries(compared).map(([name, [a, b]]) => [name, ratio(seconds(a), seconds(b))]));
  // The machine's speed drifts by a third within an hour, so fastest-against-fastest can pair a fast minute with a
  // slow one. Each round runs every contender within a few minutes: its ratio compares like with like.
  const paired = Object.fromEntries(
    Object.entries(compared).map(([name, [a, b]]) => {
      const [as, bs] = [rounds.get(a) ?? [], rounds.get(b) ?? []];
      const perRound = as.slice(0, bs.length).map((value, index) => Number((bs[index]!.seconds / value.seconds).toFixed(2)));
      return [name, perRound.length > 0 ? { median: median(perRound), perRound } : null];
    }),
  );
  const bytes = image.layerBytes;
  process.stdout.write(`\n${table(rows, bytes)}\n\nratios (x times faster than the second; >1 favours nomine):\n`);
  for (const [name, value] of Object.entries(ratios)) {
    const pairs = paired[name];
    process.stdout.write(`  ${name}: ${value ?? 'n/a'}${pairs ? ` (per round: ${pairs.perRound.join(', ')}; median ${pairs.median})` : ''}\n`);
  }
  for (const note of notes) process.stdout.write(`note: ${note}\n`);

  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 1024 ** 3), node: process.version },
    image: {
      sizeGbRequested: sizeGb,
      layerBytes: image.layerBytes,
      gzipBytes: image.gzipBytes,
      layers: image.layers,
      files: image.files,
      planted: image.planted,
    },
    rules,
    runs: rows.map((r) => ({
      name: r.name,
      seconds: Number(r.run.seconds.toFixed(2)),
      cpuSeconds: Number(r.run.cpuSeconds.toFixed(2)),
      stealSeconds: Number(r.run.stealSeconds.toFixed(2)),
      mbPerSecond: Number(mbPerSecond(bytes, r.run.seconds).toFixed(1)),
      peakRssMb: Number(r.run.peakRssMb.toFixed(1)),
      exitCode: r.run.exitCode,
      findings: r.findings,
      plantedFound: r.plantedFound,
      note: r.note,
    })),
    ratios,
    pairedRatios: paired,
    /** Every round per contender, in round order: wall and CPU seconds, and the seconds the hypervisor stole. */
    rounds: Object.fromEntries(rounds),
    notes: [
      ...notes,
      'MB/s is uncompressed layer bytes / wall seconds for every row; page cache warm for all (image just built or reused)',
      ...(runs > 1 ? [`every row is the fastest of ${runs} rounds, each round running every contender in turn; nomine's gzip scan and extract + yara back to back, nomine first in even rounds`] : []),
      'floor and peers run on the gzip layers; yara uses its default thread count, clamscan is single-threaded and stops at the first match per file',
    ],
  };
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  log(`wrote bench/results/scan.json; run outputs in ${out}`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
