/**
 * `npm run bench:agent`: how many events per second the runtime agent's eBPF path processes end to end before it
 * drops any, what that costs in CPU and memory, and how long an exec takes to reach the consumer.
 *
 * A generator container (test/fixtures/runtime/event-generator.c, static, in a `docker import`ed busybox image,
 * `--network host`) paces execs, connects to a listener it forks on 127.0.0.61 and file opens for writing at
 * increasing target rates (--rates, --seconds each). The same steps run three times:
 *   1. untraced: the generator alone (what the workload can do with no sensor of ours attached);
 *   2. bpftrace alone: the sensor's own script, output to a file, no agent (the floor any consumer starts from);
 *   3. the agent: createAgentCore with sensor 'ebpf' in this process — sensor → bounded queue → hashing →
 *      attribution → a consumer that counts the generator's events and timestamps its execs. This process is the
 *      agent: its CPU (process.cpuUsage) and RSS plus its bpftrace child's (/proc/PID/stat, status) are reported.
 * With --pin the generator's container is pinned to core 0 and this process (the agent, with its threads and
 * bpftrace) to the last core. By default nothing is pinned and one generator process (--workers) takes at most one
 * core, leaving the rest to the agent and whatever else runs on the node.
 * "Processed" counts events the consumer received attributed to the generator's container, against what the
 * generator says it did (an exec and an exit per exec, a connect and an accept per connect, one per file write).
 * A step is sustained when the queue dropped nothing, the kernel lost nothing and the consumer saw at least 99% of
 * the expected events (attribution drops are reported but not held against a step: they are other containers' events
 * whose container was already gone). Exec-to-event latency: the generator stamps CLOCK_REALTIME
 * (µs) into each child's argv just before posix_spawn; the consumer subtracts it from the time it receives the
 * exec event.
 *
 * Prints a table, writes bench/results/agent.json; exits 1 when a target is missed (50k events/s sustained on at
 * most one core; exec-to-event median under 10 ms). Options: --rates LIST (1000,10000,25000,50000,100000,
 * 200000), --seconds N (4), --workers N (1 generator process), --queue N (65536, the CLI default),
 * --pin (generator on core 0, agent on the last core), --wait-quiet S (180: before each phase, and after a step
 * whose generator something else killed, wait up to S seconds until no other bpftrace runs), --idle-cores C and
 * --idle-wait S (0.3, 5: before each step, wait up to S seconds until the rest of the node uses at most C cores),
 * --busy-retries N (1: an agent step during which the rest of the node used more than C cores is measured again, up
 * to N times, and the least disturbed attempt kept), --skip-baselines. Needs root, bpftrace, gcc, Docker.
 * Progress goes to stderr; the table to stdout.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAgentCore, type AgentCore } from '../src/agent/agent-core.ts';
import type { RuntimeEvent } from '../src/agent/event.ts';
import { countLines, startBareBpftrace, type BareBpftrace } from './agent-bpftrace-baseline.ts';
import { buildGeneratorImage, docker, execRateFor, GeneratorKilled, removeLabelled, runGenerator, startContainer, type GeneratorReport } from './agent-generator.ts';
import { childrenNamed, containerCpuSeconds, cpuSecondsOf, foreignTracers, loadAverage, nodeCpuSeconds, quantile, round, rssBytesOf, requireRootAndTools, runtimeMachine, waitForIdleCpu, waitForQuietNode } from './agent-process-stats.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (message: string) => process.stderr.write(`[bench:agent] ${message}\n`);
const targets = { sustainedEventsPerSecond: 50_000, maxCores: 1, execToEventMedianMs: 10 };

const { values: options } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,10000,25000,50000,100000,200000' },
    seconds: { type: 'string', default: '4' },
    queue: { type: 'string', default: '65536' },
    workers: { type: 'string', default: '1' },
    pin: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '180' },
    'idle-cores': { type: 'string', default: '0.3' },
    'idle-wait': { type: 'string', default: '5' },
    'busy-retries': { type: 'string', default: '1' },
    'skip-baselines': { type: 'boolean', default: false },
  },
});
const rates = options.rates.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0).sort((a, b) => a - b);
const stepSeconds = Number(options.seconds);
const queueCapacity = Number(options.queue);
const workers = Number(options.workers);
// With --pin (two cores or more) the generator gets core 0 (its container's cpuset) and the agent — this process,
// its threads and its bpftrace — the last core (taskset), so neither can take the other's core. Everything else on
// the node still floats over all cores, so on a shared machine pinning can starve the agent: off by default.
const cpuCount = cpus().length;
const pinned = options.pin && cpuCount >= 2;
const generatorCpu = 0;
const agentCpu = cpuCount - 1;
const waitQuietSeconds = Number(options['wait-quiet']);
const idleCores = Number(options['idle-cores']);
const idleWaitSeconds = Number(options['idle-wait']);
const busyRetries = Number(options['busy-retries']);
/** Steps repeated because something else killed the generator, and the seconds spent waiting for a quiet node. */
const interference = { retries: 0, waitedSeconds: 0, busyWhenMeasuring: 0, idleWaitSeconds: 0, stepsStartedBusy: 0, busyRetries: 0 };

/** Before a step: waits (briefly) until the rest of the node leaves the cores alone; returns what it used then. */
async function idleBeforeStep(own: number[]): Promise<number> {
  const idle = await waitForIdleCpu(own, idleCores, idleWaitSeconds);
  interference.idleWaitSeconds += idle.waitedSeconds;
  if (idle.otherCores > idleCores) {
    interference.stepsStartedBusy += 1;
    log(`the rest of the node keeps ${idle.otherCores} cores busy (waited ${idle.waitedSeconds} s for ≤ ${idleCores}); measuring anyway`);
  }
  return idle.otherCores;
}

/** Runs a step; when something else on the node killed the generator, waits for quiet and runs it again (3 tries). */
async function withRetries<T>(label: string, own: () => number[], step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof GeneratorKilled) || attempt >= 3) throw error;
      interference.retries += 1;
      log(`${label}: ${error.message}; waiting for a quiet node and repeating the step`);
      const waited = await waitForQuietNode(own(), waitQuietSeconds, log);
      interference.waitedSeconds += waited.waitedSeconds;
    }
  }
}

async function quietBeforePhase(own: number[] = []): Promise<void> {
  const waited = await waitForQuietNode(own, waitQuietSeconds, log);
  interference.waitedSeconds += waited.waitedSeconds;
  if (!waited.quiet) interference.busyWhenMeasuring += 1;
}

const suffix = String(process.pid);
const label = 'nomine-bench=agent';
const image = `nomine-bench-agent-generator:${suffix}`;
const container = `nomine-bench-agent-gen-${suffix}`;
const listenAddress = '127.0.0.61';
let containerId = '';
const scratch = mkdtempSync(join(tmpdir(), 'nomine-bench-agent-'));
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

interface UntracedStep {
  targetRate: number;
  achievedRate: number;
  generator: GeneratorReport;
}

interface BareStep {
  targetRate: number;
  achievedRate: number;
  expectedEvents: number;
  deliveredEvents: number;
  deliveredRate: number;
  lostEvents: number;
  bpftraceCores: number;
  bpftraceRssMiB: number;
  nodeCpu: { othersBefore: number; busyCores: number; generatorCores: number; otherCores: number };
  windowSeconds: number;
}

interface AgentStep {
  targetRate: number;
  /** What the generator managed (its own count over its own run time). */
  achievedRate: number;
  expectedEvents: number;
  /** Events of the generator's container the consumer received. */
  processedEvents: number;
  processedRate: number;
  coverage: number;
  /** Events of every entity the pipeline delivered in the window, per second. */
  allEntitiesRate: number;
  queueDrops: number;
  kernelLost: number;
  attributionDrops: number;
  sustained: boolean;
  /** Time after the generator stopped until the queue was empty and the count stable. */
  drainMs: number;
  maxQueueDepth: number;
  cpu: { agentCores: number; nodeCores: number; bpftraceCores: number };
  /**
   * The whole node over the step (/proc/stat): cores busy, of which the generator's container (its cgroup: its own
   * work plus the kernel's tracing work done in its syscalls) and everything else — other people's work, docker;
   * othersBefore: what everything else used in the second before the step (see --idle-cores).
   */
  nodeCpu: { othersBefore: number; busyCores: number; generatorCores: number; otherCores: number };
  rssMiB: { node: number; bpftrace: number; total: number };
  latencyMs: { samples: number; median: number; p90: number; p99: number; max: number };
  /** The sensor's share: from the stamp to when the agent parsed bpftrace's line (event.at is whole ms: may read up to 1 ms low). */
  sensorLatencyMs: { median: number; p99: number };
  /** How late the agent's event loop ran timers during the step (blocked by synchronous work or starved of CPU). */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /**
   * How long a trivial fs call (access('/')) took, issued every 20 ms: the wait for a libuv threadpool thread, which
   * the pipeline's executable hashing (readlink, stat, reads of /proc/PID/exe) queues behind too.
   */
  threadpoolLagMs: { p50: number; p99: number; max: number };
  /** Generator execs whose event carried a SHA-256 (the child lives 5 ms; a hash that comes later fails). */
  hashes: { ok: number; failed: number };
  /**
   * The agent's executable hasher over the step, for every exec on the node: files read whole (cache misses) and
   * MiB read. The pipeline delivers events in order and awaits each exec's hash, so a large uncached executable
   * (anyone's) holds every event behind it: the usual cause of a p99 far above the median.
   */
  hasher: { filesRead: number; mibRead: number; cacheHits: number; failures: number };
  windowSeconds: number;
  generator: GeneratorReport;
  /** When the step was measured more than once (the rest of the node crowded it): every attempt, in short. */
  attempts?: ReturnType<typeof attemptSummary>[];
}

function attemptSummary(step: AgentStep) {
  return {
    achievedRate: step.achievedRate,
    processedRate: step.processedRate,
    queueDrops: step.queueDrops,
    kernelLost: step.kernelLost,
    agentCores: step.cpu.agentCores,
    otherCores: step.nodeCpu.otherCores,
    latencyMs: { median: step.latencyMs.median, p99: step.latencyMs.p99 },
  };
}

async function containerMntns(): Promise<{ pid: number; mntns: number }> {
  const pid = Number((await docker(['inspect', '--format', '{{.State.Pid}}', container])).stdout.trim());
  const link = readlinkSync(`/proc/${pid}/ns/mnt`);
  return { pid, mntns: Number(/\[(\d+)\]/.exec(link)![1]) };
}

async function untracedSteps(): Promise<UntracedStep[]> {
  const steps: UntracedStep[] = [];
  await quietBeforePhase();
  for (const rate of rates) {
    await idleBeforeStep([]);
    const generator = await withRetries(`untraced ${rate}/s`, () => [], () => runGenerator(container, { rate, seconds: stepSeconds, execRate: execRateFor(rate), listen: listenAddress, workers }));
    log(`untraced ${rate}/s: achieved ${Math.round(generator.achievedRate)}/s`);
    steps.push({ targetRate: rate, achievedRate: Math.round(generator.achievedRate), generator });
  }
  return steps;
}

async function bareSteps(mntns: number): Promise<BareStep[]> {
  const output = join(scratch, 'bpftrace-alone.out');
  await quietBeforePhase();
  log('bpftrace alone: attaching (compiling the script and reading BTF takes a while)');
  const bare: BareBpftrace = await startBareBpftrace(output);
  const steps: BareStep[] = [];
  try {
    await sleep(1000);
    for (const rate of rates) {
      const step = await withRetries(`bpftrace alone ${rate}/s`, () => [bare.pid], async (): Promise<BareStep> => {
        const othersBefore = await idleBeforeStep([bare.pid]);
        const from = bare.offset();
        const cpu0 = cpuSecondsOf(bare.pid);
        const node0 = nodeCpuSeconds();
        const gen0 = containerCpuSeconds(containerId) ?? Number.NaN;
        const started = performance.now();
        let rss = rssBytesOf(bare.pid);
        const sampler = setInterval(() => (rss = Math.max(rss, rssBytesOf(bare.pid))), 250);
        try {
          const generator = await runGenerator(container, { rate, seconds: stepSeconds, execRate: execRateFor(rate), listen: listenAddress, workers });
          await sleep(500); // bpftrace drains its ring buffers
          const windowSeconds = (performance.now() - started) / 1000;
          const cpu = cpuSecondsOf(bare.pid) - cpu0;
          const node1 = nodeCpuSeconds();
          const busyCores = ((node1.busy - node0.busy) / (node1.total - node0.total)) * cpuCount;
          const generatorCores = ((containerCpuSeconds(containerId) ?? Number.NaN) - gen0) / windowSeconds;
          const counted = countLines(output, from, bare.offset(), mntns, bare.nonce);
          return {
            targetRate: rate,
            achievedRate: Math.round(generator.achievedRate),
            expectedEvents: generator.expectedEvents,
            deliveredEvents: counted.events,
            deliveredRate: Math.round(counted.events / generator.seconds),
            lostEvents: counted.lost,
            bpftraceCores: round(cpu / windowSeconds, 3),
            bpftraceRssMiB: mib(rss),
            nodeCpu: { othersBefore, busyCores: round(busyCores, 2), generatorCores: round(generatorCores, 2), otherCores: round(busyCores - generatorCores - cpu / windowSeconds, 2) },
            windowSeconds: round(windowSeconds, 2),
          };
        } finally {
          clearInterval(sampler);
        }
      });
      log(`bpftrace alone ${rate}/s: achieved ${step.achievedRate}/s, delivered ${step.deliveredEvents}/${step.expectedEvents}, lost ${step.lostEvents}, ${step.bpftraceCores} cores; node busy ${step.nodeCpu.busyCores} cores (generator ${step.nodeCpu.generatorCores}, others ${step.nodeCpu.otherCores})`);
      steps.push(step);
    }
  } finally {
    await bare.stop();
    rmSync(output, { force: true });
  }
  return steps;
}

async function agentSteps(): Promise<{ steps: AgentStep[]; startupSeconds: number; sensorReason: string }> {
  await quietBeforePhase();
  const controller = new AbortController();
  let lost = 0;
  let started: (() => void) | undefined;
  const sensorStarted = new Promise<void>((resolve) => (started = resolve));
  let generatorEntity: string | undefined;
  let processed = 0;
  let hashOk = 0;
  let hashFailed = 0;
  let latencies: number[] = [];
  let sensorLatencies: number[] = [];
  const onEvent = (event: RuntimeEvent) => {
    if (event.entityId !== generatorEntity) return;
    processed += 1;
    if (event.type === 'exec' && event.argv[1] === 'child') {
      const stamp = Number(event.argv[2]);
      if (Number.isFinite(stamp)) {
        latencies.push(performance.timeOrigin + performance.now() - stamp / 1000);
        // event.at is when the sensor parsed the line (Date.now(), whole milliseconds).
        sensorLatencies.push(event.at - stamp / 1000);
      }
      if (event.sha256) hashOk += 1;
      else hashFailed += 1;
    }
  };
  const t0 = performance.now();
  const core: AgentCore = await createAgentCore({
    sensor: 'ebpf',
    queueCapacity,
    cpuIntervalMs: 5000,
    onEvent,
    onSensorStatus: (_sensor, status) => {
      if (status.kind === 'lost-events') lost += status.count ?? 0;
      else log(`sensor ${status.kind}: ${status.message}`);
      if (status.kind === 'started') started?.();
    },
    onRuntimeStatus: (runtime, status) => status.kind !== 'connected' && log(`${runtime} ${status.kind}: ${status.message}`),
  });
  const running = core.run(controller.signal);
  await Promise.race([sensorStarted, running.then(() => Promise.reject(new Error('the agent stopped before its sensor started')))]);
  const startupSeconds = (performance.now() - t0) / 1000;
  const bpftracePid = childrenNamed(process.pid, 'bpftrace')[0];
  if (!bpftracePid) log('WARNING: cannot find the agent\'s bpftrace process; its CPU is not counted');
  for (let i = 0; i < 100 && !generatorEntity; i++) {
    generatorEntity = core.registry.entities().find((entity) => entity.name === container)?.id;
    if (!generatorEntity) await sleep(100);
  }
  if (!generatorEntity) throw new Error(`the agent never listed the generator container ${container}`);
  await sleep(1000);

  const steps: AgentStep[] = [];
  try {
    for (const rate of rates) {
      const measure = () => withRetries(`agent ${rate}/s`, () => (bpftracePid ? [bpftracePid] : []), async (): Promise<AgentStep> => {
        const othersBefore = await idleBeforeStep(bpftracePid ? [bpftracePid] : []);
        const before = core.pipeline.stats();
        const lost0 = lost;
        const processed0 = processed;
        const hash0 = { ok: hashOk, failed: hashFailed };
        latencies = [];
        sensorLatencies = [];
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        const poolLag = monitorThreadpool();
        const cpu0 = process.cpuUsage();
        const bpf0 = bpftracePid ? cpuSecondsOf(bpftracePid) : 0;
        const node0 = nodeCpuSeconds();
        const gen0 = containerCpuSeconds(containerId) ?? Number.NaN;
        const started = performance.now();
        let rss = { node: process.memoryUsage().rss, bpftrace: bpftracePid ? rssBytesOf(bpftracePid) : 0 };
        let maxDepth = 0;
        const sampler = setInterval(() => {
          const node = process.memoryUsage().rss;
          const bpf = bpftracePid ? rssBytesOf(bpftracePid) : 0;
          rss = { node: Math.max(rss.node, node), bpftrace: Math.max(rss.bpftrace, bpf) };
          maxDepth = Math.max(maxDepth, core.pipeline.stats().queue.depth);
        }, 100);
        const generator = await runGenerator(container, { rate, seconds: stepSeconds, execRate: execRateFor(rate), listen: listenAddress, workers }).catch((error: unknown) => {
          clearInterval(sampler);
          loopDelay.disable();
          poolLag.stop();
          throw error;
        });
        // Drain: wait until the queue is empty and the count has stopped moving (the last lines are in flight).
        const stoppedAt = performance.now();
        let lastCount = -1;
        let stable = 0;
        while (performance.now() - stoppedAt < 15_000) {
          await sleep(100);
          const depth = core.pipeline.stats().queue.depth;
          stable = depth === 0 && processed === lastCount ? stable + 1 : 0;
          lastCount = processed;
          if (stable >= 3 && processed - processed0 >= generator.expectedEvents) break;
          if (stable >= 10) break;
        }
        const drainMs = performance.now() - stoppedAt - (stable >= 3 ? stable * 100 : 0);
        clearInterval(sampler);
        loopDelay.disable();
        const poolLagMs = poolLag.stop();
        const windowSeconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const nodeSeconds = (cpu.user + cpu.system) / 1e6;
        const bpfSeconds = bpftracePid ? cpuSecondsOf(bpftracePid) - bpf0 : 0;
        const node1 = nodeCpuSeconds();
        const generatorSeconds = (containerCpuSeconds(containerId) ?? Number.NaN) - gen0;
        // Wall time of the node's clock: /proc/stat counts every core, so busy/total × cores = cores in use.
        const nodeBusyCores = ((node1.busy - node0.busy) / (node1.total - node0.total)) * cpuCount;
        const after = core.pipeline.stats();
        const seen = processed - processed0;
        const queueDrops = after.queue.dropped - before.queue.dropped;
        const kernelLost = lost - lost0;
        const attributionDrops = after.attribution.droppedUnattributed + after.attribution.droppedOverflow - before.attribution.droppedUnattributed - before.attribution.droppedOverflow;
        const coverage = seen / generator.expectedEvents;
        const step: AgentStep = {
          targetRate: rate,
          achievedRate: Math.round(generator.achievedRate),
          expectedEvents: generator.expectedEvents,
          processedEvents: seen,
          processedRate: Math.round(seen / generator.seconds),
          coverage: round(coverage, 4),
          allEntitiesRate: Math.round((after.processed - before.processed) / windowSeconds),
          queueDrops,
          kernelLost,
          attributionDrops,
          sustained: queueDrops === 0 && kernelLost === 0 && coverage >= 0.99,
          drainMs: Math.round(Math.max(0, drainMs)),
          maxQueueDepth: maxDepth,
          cpu: { agentCores: round((nodeSeconds + bpfSeconds) / windowSeconds, 3), nodeCores: round(nodeSeconds / windowSeconds, 3), bpftraceCores: round(bpfSeconds / windowSeconds, 3) },
        nodeCpu: {
          othersBefore,
          busyCores: round(nodeBusyCores, 2),
          generatorCores: round(generatorSeconds / windowSeconds, 2),
          otherCores: round(nodeBusyCores - (nodeSeconds + bpfSeconds + generatorSeconds) / windowSeconds, 2),
        },
          rssMiB: { node: mib(rss.node), bpftrace: mib(rss.bpftrace), total: mib(rss.node + rss.bpftrace) },
          latencyMs: { samples: latencies.length, median: round(quantile(latencies, 0.5)), p90: round(quantile(latencies, 0.9)), p99: round(quantile(latencies, 0.99)), max: round(quantile(latencies, 1)) },
          sensorLatencyMs: { median: round(quantile(sensorLatencies, 0.5)), p99: round(quantile(sensorLatencies, 0.99)) },
          eventLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6), p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) },
          threadpoolLagMs: { p50: round(quantile(poolLagMs, 0.5)), p99: round(quantile(poolLagMs, 0.99)), max: round(quantile(poolLagMs, 1)) },
          hashes: { ok: hashOk - hash0.ok, failed: hashFailed - hash0.failed },
        hasher: {
          filesRead: after.hasher.reads - before.hasher.reads,
          mibRead: round((after.hasher.bytesRead - before.hasher.bytesRead) / 1024 / 1024, 1),
          cacheHits: after.hasher.cacheHits - before.hasher.cacheHits,
          failures: after.hasher.failures - before.hasher.failures,
        },
          windowSeconds: round(windowSeconds, 2),
          generator,
        };
        log(`agent ${rate}/s: achieved ${step.achievedRate}/s, processed ${seen}/${generator.expectedEvents} (${(coverage * 100).toFixed(1)}%), drops ${queueDrops} queue / ${kernelLost} kernel / ${attributionDrops} attribution, ${step.cpu.agentCores} cores (node ${step.cpu.nodeCores} + bpftrace ${step.cpu.bpftraceCores}), RSS ${step.rssMiB.node}+${step.rssMiB.bpftrace} MiB, node busy ${step.nodeCpu.busyCores} cores (generator ${step.nodeCpu.generatorCores}, others ${step.nodeCpu.otherCores}), hasher read ${step.hasher.filesRead} files/${step.hasher.mibRead} MiB, exec→event p50 ${step.latencyMs.median} ms p99 ${step.latencyMs.p99} ms (sensor p50 ${step.sensorLatencyMs.median} p99 ${step.sensorLatencyMs.p99}), loop delay p99 ${step.eventLoopDelayMs.p99} max ${step.eventLoopDelayMs.max} ms, threadpool lag p99 ${step.threadpoolLagMs.p99} max ${step.threadpoolLagMs.max} ms, queue max ${step.maxQueueDepth}, drain ${step.drainMs} ms`);
        return step;
      });
      // A step the rest of the node crowded is measured again (--busy-retries), and the attempt the rest of the node
      // disturbed least is kept — chosen by contention, never by outcome; every attempt stays in the results.
      const attempts = [await measure()];
      while (attempts.length <= busyRetries && attempts.at(-1)!.nodeCpu.otherCores > idleCores) {
        interference.busyRetries += 1;
        log(`agent ${rate}/s: the rest of the node used ${attempts.at(-1)!.nodeCpu.otherCores} cores during the step; measuring it again`);
        await sleep(500);
        attempts.push(await measure());
      }
      const kept = attempts.reduce((best, attempt) => (attempt.nodeCpu.otherCores < best.nodeCpu.otherCores ? attempt : best));
      steps.push(attempts.length > 1 ? { ...kept, attempts: attempts.map(attemptSummary) } : kept);
      await sleep(500);
    }
  } finally {
    controller.abort();
    await running.catch((error: Error) => log(`agent stopped with ${error.message}`));
  }
  return { steps, startupSeconds, sensorReason: core.selection.reason };
}

/** Issues access('/') every 20 ms and records how long each took (see AgentStep.threadpoolLagMs). */
function monitorThreadpool(): { stop(): number[] } {
  const lags: number[] = [];
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = true;
    const started = performance.now();
    void access('/').finally(() => {
      lags.push(performance.now() - started);
      inFlight = false;
    });
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return lags;
    },
  };
}

function printTable(steps: AgentStep[], bare: BareStep[], untraced: UntracedStep[]): void {
  const header = ['target ev/s', 'untraced', 'bpf-only: achieved', 'delivered/s', 'lost', 'cores', 'agent: achieved', 'processed/s', 'coverage', 'drops q/k/a', 'agent cores', 'vs bpf-only', 'others cores', 'RSS MiB', 'exec→event p50/p99 ms'];
  const rows = steps.map((step) => {
    const b = bare.find((x) => x.targetRate === step.targetRate);
    const u = untraced.find((x) => x.targetRate === step.targetRate);
    return [
      String(step.targetRate),
      u ? String(u.achievedRate) : '-',
      b ? String(b.achievedRate) : '-',
      b ? `${b.deliveredRate}` : '-',
      b ? String(b.lostEvents) : '-',
      b ? b.bpftraceCores.toFixed(2) : '-',
      String(step.achievedRate),
      String(step.processedRate),
      `${(step.coverage * 100).toFixed(1)}%`,
      `${step.queueDrops}/${step.kernelLost}/${step.attributionDrops}`,
      step.cpu.agentCores.toFixed(2),
      b && b.bpftraceCores > 0 ? `${(step.cpu.agentCores / b.bpftraceCores).toFixed(1)}x` : '-',
      step.nodeCpu.otherCores.toFixed(2),
      `${step.rssMiB.node}+${step.rssMiB.bpftrace}`,
      `${step.latencyMs.median}/${step.latencyMs.p99}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
}

async function main(): Promise<number> {
  requireRootAndTools('bench:agent', 'bpftrace loads BPF programs');
  const loadBefore = loadAverage();
  const tracersBefore = foreignTracers([]);
  if (tracersBefore.length) log(`NOTE: ${tracersBefore.length} other bpftrace process(es) run on this node; they add kernel work to every traced syscall: ${tracersBefore.map((t) => t.pid).join(', ')}`);
  log('building the generator and its image (docker import)');
  await removeLabelled(label, []);
  await buildGeneratorImage(image);
  containerId = await startContainer(container, image, label, ['sleep', '3600'], pinned ? ['--cpuset-cpus', String(generatorCpu)] : []);
  if (pinned) {
    // Threads and children created from here on (libuv's pool, bpftrace, docker CLIs) inherit the affinity.
    execFileSync('taskset', ['-a', '-cp', String(agentCpu), String(process.pid)], { stdio: 'ignore' });
    log(`pinned: generator on CPU ${generatorCpu}, this process (the agent) and its children on CPU ${agentCpu}`);
  }
  const { mntns } = await containerMntns();
  log(`generator container ${container} (mount namespace ${mntns}); warming up`);
  await runGenerator(container, { rate: 1000, seconds: 1, execRate: 50, listen: listenAddress });

  const untraced = options['skip-baselines'] ? [] : await untracedSteps();
  const bare = options['skip-baselines'] ? [] : await bareSteps(mntns);
  const agent = await agentSteps();
  const loadAfter = loadAverage();
  const tracersAfter = foreignTracers([]);

  const { steps } = agent;
  printTable(steps, bare, untraced);
  const sustainedSteps: AgentStep[] = [];
  for (const step of steps) {
    if (!step.sustained) break;
    sustainedSteps.push(step);
  }
  const maxSustained = sustainedSteps.at(-1);
  const firstDropping = steps.find((step) => !step.sustained);
  const at = (rate: number) => steps.find((step) => step.targetRate === rate);
  const brief = (step: AgentStep | undefined) =>
    step && { targetRate: step.targetRate, processedRate: step.processedRate, agentCores: step.cpu.agentCores, nodeCores: step.cpu.nodeCores, bpftraceCores: step.cpu.bpftraceCores, rssMiB: step.rssMiB, latencyMs: step.latencyMs, sustained: step.sustained };
  const sustainedLatencies = sustainedSteps.flatMap((step) => [step.latencyMs.median]);
  const bareMax = [...bare].reverse().find((step) => step.lostEvents === 0 && step.deliveredEvents >= 0.99 * step.expectedEvents);
  const fiftyK = at(targets.sustainedEventsPerSecond);
  const checks = {
    sustained50kOnOneCore: !!fiftyK && fiftyK.sustained && fiftyK.achievedRate >= 0.95 * targets.sustainedEventsPerSecond && fiftyK.cpu.agentCores <= targets.maxCores,
    execToEventMedianUnder10ms: sustainedSteps.length > 0 && sustainedSteps.every((step) => step.latencyMs.median < targets.execToEventMedianMs),
  };
  const problems: string[] = [];
  if (!fiftyK) problems.push(`no ${targets.sustainedEventsPerSecond}/s step was run`);
  else if (!checks.sustained50kOnOneCore) {
    // The generator falling short with nothing dropped is not the agent failing: the node could not offer the load.
    const verdict = fiftyK.sustained && fiftyK.achievedRate < 0.95 * targets.sustainedEventsPerSecond ? 'not verified' : 'missed';
    problems.push(`${verdict} at ${fiftyK.targetRate}/s: generator achieved ${fiftyK.achievedRate}/s, agent processed ${fiftyK.processedRate}/s (${(fiftyK.coverage * 100).toFixed(1)}%), drops ${fiftyK.queueDrops} queue / ${fiftyK.kernelLost} kernel / ${fiftyK.attributionDrops} attribution, ${fiftyK.cpu.agentCores} cores (target ≤ ${targets.maxCores}); the rest of the node used ${fiftyK.nodeCpu.otherCores} cores`);
  }
  if (!checks.execToEventMedianUnder10ms) problems.push(`exec→event median per sustained step: ${sustainedLatencies.join(', ')} ms (target < ${targets.execToEventMedianMs} ms)`);

  const summary = {
    maxSustainedEventsPerSecond: maxSustained?.processedRate ?? 0,
    maxSustainedTargetRate: maxSustained?.targetRate ?? 0,
    /** The highest processed rate of any drop-free step (steps after the first dropping one included). */
    highestDropFreeEventsPerSecond: Math.max(0, ...steps.filter((step) => step.sustained).map((step) => step.processedRate)),
    firstDroppingStep: firstDropping ? { targetRate: firstDropping.targetRate, achievedRate: firstDropping.achievedRate, processedRate: firstDropping.processedRate, queueDrops: firstDropping.queueDrops, kernelLost: firstDropping.kernelLost, attributionDrops: firstDropping.attributionDrops } : undefined,
    at1k: brief(at(1000)),
    at10k: brief(at(10_000)),
    atMaxSustained: brief(maxSustained),
    baseline: {
      bpftraceOnlyMaxLosslessRate: bareMax?.deliveredRate,
      bpftraceOnlyMaxLosslessTarget: bareMax?.targetRate,
      /** Agent (node + bpftrace) CPU over bpftrace-alone CPU at the same target rate. */
      cpuRatioVsBpftraceOnly: Object.fromEntries(steps.map((step) => {
        const b = bare.find((x) => x.targetRate === step.targetRate);
        return [step.targetRate, b && b.bpftraceCores > 0 ? round(step.cpu.agentCores / b.bpftraceCores, 2) : null];
      })),
      /** Agent's max sustained rate over bpftrace alone's max lossless rate. */
      throughputRatioVsBpftraceOnly: bareMax && maxSustained ? round(maxSustained.processedRate / bareMax.deliveredRate, 2) : null,
      /** What the generator achieved with the agent over what it achieved untraced, per rate: the tracing's cost to the workload. */
      workloadRateRatioVsUntraced: Object.fromEntries(steps.map((step) => {
        const u = untraced.find((x) => x.targetRate === step.targetRate);
        return [step.targetRate, u ? round(step.achievedRate / u.achievedRate, 2) : null];
      })),
    },
  };
  process.stdout.write(`\nmax sustained (no drops, ≥99% processed, before the first dropping step): ${summary.maxSustainedEventsPerSecond} events/s at target ${summary.maxSustainedTargetRate}/s` +
    `${firstDropping ? `; first dropping step ${firstDropping.targetRate}/s (achieved ${firstDropping.achievedRate}/s)` : ''}; highest drop-free step: ${summary.highestDropFreeEventsPerSecond} events/s\n`);
  for (const [name, step] of [['1k', summary.at1k], ['10k', summary.at10k], ['max', summary.atMaxSustained]] as const) {
    if (step) process.stdout.write(`at ${name}: ${step.agentCores} cores (node ${step.nodeCores} + bpftrace ${step.bpftraceCores}), RSS ${step.rssMiB.node} + ${step.rssMiB.bpftrace} MiB, exec→event median ${step.latencyMs.median} ms, p99 ${step.latencyMs.p99} ms\n`);
  }
  process.stdout.write(problems.length ? `TARGETS MISSED\n${problems.map((p) => `  - ${p}`).join('\n')}\n` : 'targets: OK\n');

  const result = {
    date: new Date().toISOString(),
    command: 'npm run bench:agent',
    options: { rates, seconds: stepSeconds, queueCapacity, workers, pinned: pinned ? { generatorCpu, agentCpu } : false, skipBaselines: options['skip-baselines'] },
    machine: {
      ...runtimeMachine(),
      loadAverage: { before: loadBefore, after: loadAfter },
      otherTracers: { before: tracersBefore.length, after: tracersAfter.length },
    },
    interference,
    method: {
      agent: `createAgentCore({ sensor: 'ebpf', queueCapacity: ${queueCapacity}, cpuIntervalMs: 5000 }) in the bench process; the consumer counts the generator container's events`,
      mix: 'per step: execs at clamp(rate/500, 50, 200)/s (exec + exit events), 1% of the other events connects to 127.0.0.61 (connect + accept), the rest file opens for writing',
      sustained: 'no queue drops, no kernel-lost events, ≥ 99% of the expected events processed; maxSustained stops at the first step that fails',
      latency: 'consumer receive time minus the CLOCK_REALTIME stamp the generator put in the child argv before posix_spawn',
      cpu: 'process.cpuUsage() of the bench process (the agent) + utime/stime of its bpftrace child, over the step and its drain',
      baselines: 'untraced: the generator alone; bpftrace-only: the sensor\'s script with output to a file, lines counted per mount namespace',
    },
    targets,
    checks,
    problems,
    summary,
    agentStartupSeconds: round(agent.startupSeconds, 1),
    sensor: agent.sensorReason,
    steps,
    baselines: { untraced, bpftraceOnly: bare },
  };
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench/results/agent.json'), `${JSON.stringify(result, null, 2)}\n`);
  log('wrote bench/results/agent.json');
  return problems.length ? 1 : 0;
}

let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= removeLabelled(label, [image]).finally(() => rmSync(scratch, { recursive: true, force: true })));
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  log(`${signal}: cleaning up`);
  void cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  async (code) => {
    await cleanup();
    if (!interrupted) process.exit(code);
  },
  async (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    if (!interrupted) process.exit(2);
  },
);
