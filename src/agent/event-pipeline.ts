/**
 * The event pipeline: sensors → bounded queue → enrichment (executable hash, parent executable) → attribution →
 * the consumer. Sensors never wait: their sink only pushes (dropping with a count when full) and starts hashing an
 * exec's executable at once, while the process is most likely still alive; the consumer awaits the hash in order.
 */
import type { Attribution } from './attribution.ts';
import { createAttribution } from './attribution.ts';
import { BoundedQueue, type QueueStats } from './bounded-queue.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { RawEvent, RuntimeEvent } from './event.ts';
import { executablePathOf, readExecutableLink } from './exec-gate.ts';
import type { ExeHash, ExeHasher } from './exe-hasher.ts';
import type { Sensor, SensorStatus } from './sensor.ts';

/** Processes whose executable is remembered for their children's parentExe. */
const maxRememberedProcesses = 65_536;

interface QueuedEvent {
  /** Absent for a wake-up: events the attribution resolved later are waiting to be delivered. */
  raw?: RawEvent;
  hash?: Promise<ExeHash>;
}

export interface EventPipelineOptions {
  sensors: Sensor[];
  registry: EntityRegistry;
  hasher: ExeHasher;
  queueCapacity: number;
  /** Called in event order; the pipeline awaits it, so a slow consumer fills the queue rather than memory. */
  onEvent: (event: RuntimeEvent) => void | Promise<void>;
  onSensorStatus: (sensor: Sensor, status: SensorStatus) => void;
  now?: () => number;
  /** Sees every exec as the sensor hands it over, before the queue (the exec gate of prevent mode). */
  execGate?: (raw: RawEvent) => void;
  /** Extra producers (the CPU sampler) that push raw events into the same queue. */
  producers?: ((sink: (event: RawEvent) => void, signal: AbortSignal) => Promise<void>)[];
}

export interface PipelineStats {
  queue: QueueStats;
  processed: number;
  byType: Record<string, number>;
  attribution: ReturnType<Attribution['stats']>;
  hasher: ReturnType<ExeHasher['stats']>;
}

export interface EventPipeline {
  run(signal: AbortSignal): Promise<void>;
  stats(): PipelineStats;
  /** Pushes one raw event as a sensor would (ingestion over HTTP, tests). */
  push(event: RawEvent): boolean;
}

export function createEventPipeline(options: EventPipelineOptions): EventPipeline {
  const queue = new BoundedQueue<QueuedEvent>(options.queueCapacity, (item) => item.raw?.type ?? 'wake-up');
  const byType: Record<string, number> = {};
  let processed = 0;
  const exeByPid = new Map<number, string>();
  const ready: RuntimeEvent[] = [];
  const attribution = createAttribution(options.registry, {
    emit: (event) => ready.push(event),
    ...(options.now ? { now: options.now } : {}),
  });

  function push(raw: RawEvent): boolean {
    // The agent's own work (reading /proc, writing its store) is not the host's behaviour.
    if (raw.pid === process.pid) return true;
    const item: QueuedEvent = { raw };
    if (raw.type === 'exec') {
      // A relative path, or a re-exec through /proc/self/exe or a descriptor (busybox applets, fexecve), names the
      // file only indirectly: resolved now, while the process most likely still lives (a short-lived one is gone by
      // the time its hash is read), so the gate, the judge and the profile all see the executable itself.
      if (raw.pid > 0) raw.exe = executablePathOf(raw.exe, () => readExecutableLink(raw.pid)) ?? raw.exe;
      options.execGate?.(raw);
    }
    if (raw.type === 'exec' && raw.pid > 0 && raw.sha256 === undefined) {
      if (queue.length >= queue.capacity) return queue.push(item); // counted as a drop; no hashing for it
      item.hash = options.hasher.hash(raw.pid).catch((error: Error) => ({ hashError: error.message }));
    }
    return queue.push(item);
  }

  function enrich(raw: RawEvent, hash: ExeHash | undefined): void {
    if (raw.type !== 'exec') {
      if (raw.type === 'exit') exeByPid.delete(raw.pid);
      return;
    }
    if (hash) {
      if (hash.sha256) raw.sha256 = hash.sha256;
      else if (hash.hashError) raw.hashError = hash.hashError;
      if (hash.exeDeleted) raw.exeDeleted = true;
    }
    raw.parentExe ??= exeByPid.get(raw.ppid);
    // A re-exec of /proc/self/exe whose process is gone before it could be resolved: it ran what its parent (the
    // forking process) ran.
    if (raw.exe === '/proc/self/exe' && !hash?.exe && raw.parentExe) raw.exe = raw.parentExe;
    if (exeByPid.size >= maxRememberedProcesses) exeByPid.delete(exeByPid.keys().next().value!);
    exeByPid.set(raw.pid, hash?.exe ?? raw.exe);
  }

  async function deliver(event: RuntimeEvent): Promise<void> {
    processed += 1;
    byType[event.type] = (byType[event.type] ?? 0) + 1;
    await options.onEvent(event);
  }

  async function consume(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await queue.waitForItem(signal);
      const item = queue.shift();
      if (item?.raw) {
        enrich(item.raw, item.hash ? await item.hash : undefined);
        const attributed = attribution.attribute(item.raw);
        if (attributed !== 'pending') await deliver(attributed);
      }
      while (ready.length > 0) await deliver(ready.shift()!);
    }
  }

  return {
    push,
    async run(signal) {
      const sweeper = setInterval(() => {
        attribution.sweep();
        // Pending events resolved by a sweep wait for the next queued event otherwise.
        if (ready.length > 0 && queue.length === 0) queue.push({});
      }, 250);
      const sensors = options.sensors.map((sensor) =>
        sensor.start({ sink: (event) => void push(event), onStatus: (status) => options.onSensorStatus(sensor, status), signal }).catch((error: Error) => {
          options.onSensorStatus(sensor, { kind: 'failed', message: error.message });
        }),
      );
      const producers = (options.producers ?? []).map((producer) => producer((event) => void push(event), signal).catch(() => undefined));
      try {
        await consume(signal);
      } finally {
        clearInterval(sweeper);
        attribution.close();
        await Promise.allSettled([...sensors, ...producers]);
      }
    },
    stats: () => ({ queue: queue.stats(), processed, byType: { ...byType }, attribution: attribution.stats(), hasher: options.hasher.stats() }),
  };
}
