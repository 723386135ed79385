/**
 * `npm run bench:audit`: how long `nomine audit` takes at fleet scale, each beside a floor measured the same way in
 * the same run (GNU time: wall seconds and peak RSS).
 *
 * - docker: N running busybox containers (`docker import`, no pulls; `--network none`, label nomine-bench=audit),
 *   then `nomine audit docker --json` against `sh -c 'docker inspect $(docker ps -q)'` (the raw data the audit
 *   needs, through the docker CLI). The audit JSON must name every bench container.
 * - k8s: M generated manifest files (six workload kinds, multi-document, JSON, hardened and weak), then
 *   `nomine audit k8s DIR --json` against a plain node script that reads and parses every file with yaml's
 *   parseAllDocuments. The audit JSON must name every generated workload.
 *
 * Prints a table, writes bench/results/audit.json; exits 1 when a nomine run fails, misses entities or takes more
 * than the 10 s target. Containers and the image are removed at the end, on failure and on SIGINT/SIGTERM.
 * Options: --containers N (200), --manifests N (2000), --concurrency N (8, container starts at a time),
 * --runs N (1; the median by wall time is kept), --skip-docker, --skip-k8s.
 * Needs `npm run build` (runs it if dist/ is missing). Progress goes to stderr; the table to stdout.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchLabel, buildBusyboxImage, cleanupFleet, containerName, removeFleet, startContainers, stopStarting } from './audit-docker.ts';
import { generateManifests, parseFloorScript } from './audit-manifests.ts';
import { timedRun, type TimedRun } from './timed-run.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const nomineBin = join(repoRoot, 'bin/nomine.js');
const targetSeconds = 10;
const log = (message: string) => process.stderr.write(`[bench:audit] ${message}\n`);

const { values: options } = parseArgs({
  options: {
    containers: { type: 'string', default: '200' },
    manifests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    runs: { type: 'string', default: '1' },
    'skip-docker': { type: 'boolean', default: false },
    'skip-k8s': { type: 'boolean', default: false },
  },
});
const containerCount = Number(options.containers);
const manifestCount = Number(options.manifests);
const concurrency = Number(options.concurrency);
const runs = Math.max(1, Number(options.runs));

interface Row {
  contender: string;
  seconds: number;
  peakRssMb: number;
  /** Wall time over the floor's (1 for the floor itself). */
  ratio: number;
  rssRatio: number;
  exitCode: number;
  covered: string;
  runsSeconds: number[];
}

interface Section {
  rows: Row[];
  checks: { ok: boolean; problems: string[] };
  details: Record<string, unknown>;
}

const sections: Record<string, Section> = {};
const scratch = mkdtempSync(join(tmpdir(), 'nomine-bench-audit-'));
const nomineHome = join(scratch, 'home');
mkdirSync(nomineHome);
const nomineEnv = { ...process.env, NOMINE_HOME: nomineHome, NO_COLOR: '1' };

function prerequisites(): void {
  if (!existsSync('/usr/bin/time')) {
    log('GNU time missing: apt-get install -y time');
    execFileSync('apt-get', ['install', '-y', 'time'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!existsSync(join(repoRoot, 'dist/cli/run.js'))) {
    log('dist/ missing: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

/** `runs` timed runs; the median by wall time is the one reported. */
async function measure(label: string, command: string, args: string[], stdoutPath: string, env: NodeJS.ProcessEnv = process.env): Promise<{ run: TimedRun; all: number[] }> {
  const done: TimedRun[] = [];
  for (let i = 0; i < runs; i += 1) {
    log(`${label}: run ${i + 1}/${runs}`);
    const path = runs === 1 ? stdoutPath : `${stdoutPath}.${i}`;
    const run = await timedRun(command, args, path, env);
    log(`${label}: ${run.seconds.toFixed(2)} s, ${run.peakRssMb.toFixed(1)} MB peak RSS, exit ${run.exitCode}`);
    done.push(run);
  }
  const sorted = [...done].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as TimedRun;
  if (median.stdoutPath !== stdoutPath) writeFileSync(stdoutPath, readFileSync(median.stdoutPath));
  return { run: median, all: done.map((r) => round(r.seconds, 3)) };
}

function round(value: number, digits = 2): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

function rows(floorName: string, floor: { run: TimedRun; all: number[] }, floorCovered: string, nomineName: string, nomine: { run: TimedRun; all: number[] }, nomineCovered: string): Row[] {
  const row = (contender: string, m: { run: TimedRun; all: number[] }, covered: string): Row => ({
    contender,
    seconds: round(m.run.seconds, 3),
    peakRssMb: round(m.run.peakRssMb, 1),
    ratio: round(m.run.seconds / floor.run.seconds, 2),
    rssRatio: round(m.run.peakRssMb / floor.run.peakRssMb, 2),
    exitCode: m.run.exitCode,
    covered,
    runsSeconds: m.all,
  });
  return [row(floorName, floor, floorCovered), row(nomineName, nomine, nomineCovered)];
}

interface AuditJson {
  checks: number;
  summary: Record<string, number>;
  results: { checkId: string; status: string; entity: { kind: string; name: string; target?: string }; message?: string }[];
  skipped: { name: string }[];
}

function readAuditJson(path: string, problems: string[]): AuditJson | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AuditJson;
  } catch (error) {
    problems.push(`nomine output is not JSON (${(error as Error).message.split('\n')[0]}); first bytes: ${readFileSync(path, 'utf8').slice(0, 200)}`);
    return undefined;
  }
}

function collectErrors(report: AuditJson): string[] {
  return report.results.filter((r) => r.checkId === 'audit.collect').map((r) => `${r.entity.name}: ${r.message ?? ''}`);
}

function timingProblems(run: TimedRun, label: string, problems: string[]): void {
  if (run.exitCode !== 0 && run.exitCode !== 1) problems.push(`${label} exited ${run.exitCode} (2 = a check or collection errored): ${run.stderrTail.trim().slice(-600)}`);
  if (run.seconds >= targetSeconds) problems.push(`${label} took ${run.seconds.toFixed(2)} s, over the ${targetSeconds} s target`);
}

async function benchDocker(): Promise<Section> {
  const problems: string[] = [];
  await removeFleet(log); // leftovers of an interrupted earlier run, by label only
  log('building the busybox image (docker import)');
  const imageId = await buildBusyboxImage();
  log(`starting ${containerCount} containers, ${concurrency} at a time`);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  await startContainers(containerCount, concurrency, (n) => {
    if (tty) process.stderr.write(`\r[bench:audit] started ${n}/${containerCount}`);
    else if (n % 20 === 0 || n === containerCount) log(`started ${n}/${containerCount}`);
  });
  if (tty) process.stderr.write('\n');
  const startSeconds = (Date.now() - started) / 1000;
  const running = execFileSync('docker', ['ps', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  const ours = execFileSync('docker', ['ps', '-q', '--filter', `label=${benchLabel}`], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  log(`${ours} bench containers running (${running} in all) after ${startSeconds.toFixed(1)} s`);
  if (ours !== containerCount) problems.push(`only ${ours} of ${containerCount} bench containers are running`);

  const baselineOut = join(scratch, 'docker-inspect.json');
  const nomineOut = join(scratch, 'nomine-audit-docker.json');
  execFileSync('docker', ['ps', '-q'], { stdio: 'ignore' }); // warm the CLI and daemon once, for both
  const baseline = await measure('docker inspect', 'sh', ['-c', 'docker inspect $(docker ps -q)'], baselineOut);
  const nomine = await measure('nomine audit docker', process.execPath, [nomineBin, 'audit', 'docker', '--json'], nomineOut, nomineEnv);

  const wanted = new Set(Array.from({ length: containerCount }, (_, i) => containerName(i)));
  let inspected: { Name?: string }[] = [];
  try {
    inspected = JSON.parse(readFileSync(baselineOut, 'utf8')) as { Name?: string }[];
  } catch {
    problems.push('docker inspect output is not JSON');
  }
  const baselineOurs = inspected.filter((c) => wanted.has((c.Name ?? '').replace(/^\//, ''))).length;

  timingProblems(nomine.run, 'nomine audit docker', problems);
  const report = readAuditJson(nomineOut, problems);
  const containers = new Set<string>();
  const images = new Set<string>();
  let daemonResults = 0;
  const errors = report ? collectErrors(report) : [];
  for (const result of report?.results ?? []) {
    if (result.entity.target === 'docker.container') containers.add(result.entity.name);
    else if (result.entity.target === 'docker.image') images.add(result.entity.name);
    else if (result.entity.target === 'docker.daemon') daemonResults += 1;
  }
  const covered = [...wanted].filter((name) => containers.has(name)).length;
  if (report && covered !== containerCount) problems.push(`nomine audit docker names ${covered} of the ${containerCount} bench containers (${containers.size} containers in all)`);
  if (errors.length) problems.push(`${errors.length} audit.collect error results, e.g. ${errors.slice(0, 3).join(' | ')}`);
  const checksPerContainer = report ? report.results.filter((r) => r.entity.name === containerName(0)).length : 0;

  return {
    rows: rows(
      'docker inspect $(docker ps -q)',
      baseline,
      `${inspected.length} containers (${baselineOurs} bench)`,
      'nomine audit docker --json',
      nomine,
      `${containers.size} containers (${covered} bench), ${images.size} images`,
    ),
    checks: { ok: problems.length === 0, problems },
    details: {
      benchContainers: containerCount,
      runningContainers: running,
      startConcurrency: concurrency,
      startSeconds: round(startSeconds, 1),
      imageId,
      nomine: {
        containersAudited: containers.size,
        benchContainersAudited: covered,
        imagesAudited: images.size,
        daemonResults,
        checksPerContainer,
        results: report?.results.length ?? 0,
        collectErrors: errors.length,
        summary: report?.summary,
      },
      baseline: { containersInspected: inspected.length, benchContainersInspected: baselineOurs },
    },
  };
}

async function benchK8s(): Promise<Section> {
  const problems: string[] = [];
  const dir = join(scratch, 'manifests');
  log(`generating ${manifestCount} manifest files in ${dir}`);
  const generated = generateManifests(dir, manifestCount);
  log(`${generated.files} files, ${generated.documents} documents, ${generated.workloads.length} workloads, ${(generated.bytes / 1024 ** 2).toFixed(1)} MB`);
  const floorScript = join(scratch, 'parse-floor.mjs');
  writeFileSync(floorScript, parseFloorScript(createRequire(import.meta.url).resolve('yaml')));

  const floorOut = join(scratch, 'parse-floor.json');
  const nomineOut = join(scratch, 'nomine-audit-k8s.json');
  const floor = await measure('yaml parseAllDocuments floor', process.execPath, [floorScript, dir], floorOut);
  const nomine = await measure('nomine audit k8s', process.execPath, [nomineBin, 'audit', 'k8s', dir, '--json'], nomineOut, nomineEnv);

  let floorCount = { files: 0, documents: 0, errors: 0 };
  try {
    floorCount = JSON.parse(readFileSync(floorOut, 'utf8')) as typeof floorCount;
  } catch {
    problems.push(`floor script output is not JSON: ${floor.run.stderrTail.slice(-300)}`);
  }
  if (floorCount.files !== generated.files || floorCount.documents !== generated.documents) {
    problems.push(`floor read ${floorCount.files} files / ${floorCount.documents} documents, expected ${generated.files} / ${generated.documents}`);
  }

  timingProblems(nomine.run, 'nomine audit k8s', problems);
  const report = readAuditJson(nomineOut, problems);
  const labels = new Set<string>();
  const entities = new Set<string>();
  for (const result of report?.results ?? []) {
    if (result.entity.target !== 'k8s.workload') continue;
    entities.add(result.entity.name);
    labels.add(result.entity.name.replace(/^.*?#\d+ /, ''));
  }
  const missing = generated.workloads.filter((label) => !labels.has(label));
  const errors = report ? collectErrors(report) : [];
  if (report && (missing.length || entities.size !== generated.workloads.length)) {
    problems.push(`nomine audit k8s names ${entities.size} workload entities for ${generated.workloads.length} generated; missing ${missing.length}, e.g. ${missing.slice(0, 3).join(', ')}`);
  }
  if (errors.length) problems.push(`${errors.length} audit.collect error results, e.g. ${errors.slice(0, 3).join(' | ')}`);
  const skippedExpected = generated.documents - generated.workloads.length;
  if (report && report.skipped.length !== skippedExpected) problems.push(`nomine skipped ${report.skipped.length} documents, expected ${skippedExpected} (Services and ConfigMaps)`);
  const statuses: Record<string, number> = {};
  for (const result of report?.results ?? []) statuses[result.status] = (statuses[result.status] ?? 0) + 1;

  return {
    rows: rows(
      'node + yaml parseAllDocuments (floor)',
      floor,
      `${floorCount.files} files, ${floorCount.documents} docs`,
      'nomine audit k8s DIR --json',
      nomine,
      `${entities.size}/${generated.workloads.length} workloads`,
    ),
    checks: { ok: problems.length === 0, problems },
    details: {
      generated: { files: generated.files, documents: generated.documents, bytes: generated.bytes, workloads: generated.workloads.length, byKind: generated.byKind, hardened: generated.hardened, weak: generated.weak },
      nomine: { workloadsAudited: entities.size, missing: missing.length, results: report?.results.length ?? 0, statuses, skipped: report?.skipped.length ?? 0, collectErrors: errors.length, summary: report?.summary },
      floor: floorCount,
    },
  };
}

function printTable(): void {
  const header = ['contender', 'seconds', 'peak RSS MB', 'ratio', 'covers'];
  const body: string[][] = [];
  for (const [name, section] of Object.entries(sections)) {
    for (const row of section.rows) body.push([`${name}: ${row.contender}`, row.seconds.toFixed(2), row.peakRssMb.toFixed(1), `${row.ratio.toFixed(2)}x`, row.covered]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
  process.stdout.write(`ratio: wall time over the floor of the same section; target: each nomine run under ${targetSeconds} s\n`);
  for (const [name, section] of Object.entries(sections)) {
    process.stdout.write(section.checks.ok ? `${name}: OK\n` : `${name}: PROBLEMS\n${section.checks.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
}

function writeResults(): void {
  const path = join(repoRoot, 'bench/results/audit.json');
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  const cpuList = cpus();
  const result = {
    date: new Date().toISOString(),
    command: 'npm run bench:audit',
    options: { containers: containerCount, manifests: manifestCount, concurrency, runs },
    machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 1024 ** 3), node: process.version, docker: dockerVersion() },
    targetSeconds,
    ...Object.fromEntries(
      Object.entries(sections).map(([name, section]) => {
        const nomine = section.rows[1];
        return [name, { ...section, underTarget: nomine ? nomine.seconds < targetSeconds : false }];
      }),
    ),
  };
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path}`);
}

function dockerVersion(): string {
  try {
    return execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unavailable';
  }
}

let dockerStarted = false;
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  log(`${signal}: cleaning up`);
  stopStarting();
  const done = dockerStarted ? cleanupFleet(log) : Promise.resolve();
  void done.finally(() => {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function main(): Promise<number> {
  prerequisites();
  try {
    if (!options['skip-docker']) {
      dockerStarted = true;
      try {
        sections.docker = await benchDocker();
      } finally {
        await cleanupFleet(log);
      }
    }
    if (!options['skip-k8s'] && !interrupted) sections.k8s = await benchK8s();
  } finally {
    if (!interrupted) rmSync(scratch, { recursive: true, force: true });
  }
  printTable();
  writeResults();
  return Object.values(sections).every((s) => s.checks.ok) ? 0 : 1;
}

main().then(
  (code) => {
    if (!interrupted) process.exitCode = code;
  },
  async (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (dockerStarted) await cleanupFleet(log);
    if (!interrupted) {
      rmSync(scratch, { recursive: true, force: true });
      process.exitCode = 2;
    }
  },
);
