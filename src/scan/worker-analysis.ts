/**
 * A pool of analysis worker threads. Files go to the least busy worker. Their content is read into a shared slab
 * (see shared-slab.ts) that the workers read in place, so a file crosses to a worker as an offset, not a copy, and
 * the slab's size bounds the bytes in flight; a file too large for the slab is sent as a copy. A worker that dies
 * fails its files with an error naming it, and no more files go to it.
 */
import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { NomineError } from '../core/errors.ts';
import { siblingModule, startModuleWorker } from '../platform/source-module.ts';
import { loadedBundle } from '../signatures/load-signatures.ts';
import type { AnalysisRequest, AnalysisWorkerData, PoolMessage, WorkerMessage } from './analysis-worker.ts';
import type { AnalysedFile, FileAnalysis } from './file-analysis.ts';
import { SharedSlab, type SlabRegion } from './shared-slab.ts';

const workerUrl = siblingModule(import.meta.url, 'analysis-worker');

function createWorker(data: AnalysisWorkerData): Worker {
  return startModuleWorker(workerUrl, { workerData: data, resourceLimits: workerHeapLimits });
}

/**
 * A worker's heap grows lazily toward V8's default limit (gigabytes); a small young generation makes it collect
 * often, which keeps a scan's resident memory flat. File contents live in the shared slab, outside the heap; the old
 * generation still fits a latin1 copy of the largest analyzed file (a keyword list that may match reads one).
 */
const workerHeapLimits = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };

interface Pending {
  resolve: (result: AnalysedFile) => void;
  reject: (error: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Requests not yet sent: they go as one message once this turn of the event loop is over (see send). */
  outbox: AnalysisRequest[];
  /** Whether the worker has been sent the slab (once; later requests name regions of it). */
  hasSlab: boolean;
  /** Why the worker is gone, once it is: no more files go to it. */
  failure?: Error;
}

/** How often a busy pool considers another worker, and how much of the machine must sit idle for it to start one. */
const growthCheckMs = 500;
const idleCoresToGrow = 0.75;

/** Milliseconds all cores spent idle since boot (os.cpus() counts per core). */
const idleMs = () => cpus().reduce((sum, core) => sum + core.times.idle, 0);

/**
 * Workers start on the first file that needs analysis: a scan served entirely from the layer cache starts none
 * (each would load and compile the signatures again). The pool starts with one worker and adds one (up to `size`)
 * only while every worker has files waiting and the machine has cores idle: on two cores the layer reader (this
 * thread and the decompression thread) and one worker already keep both busy, and a second worker there cost ~30 MB
 * resident and no time (measured on the benchmark image).
 */
export function workerAnalysis(size: number, data: AnalysisWorkerData): FileAnalysis {
  // Workers build from what this thread loaded rather than each reading and validating the files again.
  const bundle = data.bundle ?? loadedBundle(data.signatureVersion);
  const workerData: AnalysisWorkerData = bundle ? { ...data, bundle } : data;
  let pool: Promise<PooledWorker[]> | undefined;
  let growing: Promise<unknown> | undefined;
  let lastCheck = { at: 0, idle: 0 };
  const grow = (workers: PooledWorker[]) => {
    const now = performance.now();
    if (growing || workers.length >= size || now - lastCheck.at < growthCheckMs) return;
    // Idle cores across the machine, not this process's share: other work running here counts as busy.
    const idle = idleMs();
    const idleCores = (idle - lastCheck.idle) / (now - lastCheck.at);
    lastCheck = { at: now, idle };
    if (idleCores < idleCoresToGrow) return;
    growing = startWorker(workers.length, workerData)
      .then((worker) => workers.push(worker))
      .catch(() => undefined) // the workers running carry on
      .finally(() => (growing = undefined));
  };
  let slab: SharedSlab | undefined;
  /** Regions of the slab handed out by reserve(), by offset (a buffer may be cut short: its start names it). */
  const regions = new Map<number, SlabRegion>();
  let nextId = 0;
  const regionOf = (buffer: Buffer) => (slab && buffer.buffer === slab.buffer ? regions.get(buffer.byteOffset) : undefined);
  const release = (buffer: Buffer) => {
    const region = regionOf(buffer);
    if (!region) return;
    regions.delete(region.offset);
    slab!.release(region);
  };
  return {
    reserve(bytes, limits) {
      slab ??= new SharedSlab(Math.max(limits.maxAnalyzedFileBytes, limits.maxAnalysisInFlightBytes), limits.maxAnalysisInFlightBytes);
      if (bytes < 1 || bytes > slab.capacity) return undefined;
      const shared = slab;
      return shared.reserve(bytes).then((region) => {
        regions.set(region.offset, region);
        return Buffer.from(shared.buffer, region.offset, region.size);
      });
    },
    release,
    lagging: () => slab !== undefined && slab.held > slab.ringBytes / 2,
    async analyze(file, analyzerIds) {
      // The file's region goes back to the slab however this ends: answered, failed, or never sent.
      try {
        pool ??= startWorker(0, workerData).then((first) => {
          lastCheck = { at: performance.now(), idle: idleMs() };
          return [first];
        });
        const workers = await pool;
        const live = workers.filter((worker) => !worker.failure);
        if (live.length === 0) throw workers[0]!.failure!;
        const target = live.reduce((best, candidate) => (candidate.pending.size < best.pending.size ? candidate : best));
        if (target.pending.size >= 2) grow(workers);
        const id = nextId++;
        const region = regionOf(file.bytes);
        const { bytes, ...rest } = file;
        const request: AnalysisRequest = {
          id,
          file: region && slab ? { ...rest, shared: { offset: region.offset, length: bytes.length } } : { ...rest, bytes },
          analyzerIds: [...analyzerIds],
        };
        return await new Promise<AnalysedFile>((resolve, reject) => {
          target.pending.set(id, { resolve, reject });
          if (region && slab && !target.hasSlab) {
            target.worker.postMessage({ slab: slab.buffer } satisfies PoolMessage);
            target.hasSlab = true;
          }
          send(target, request);
        });
      } finally {
        release(file.bytes);
      }
    },
    async close() {
      if (!pool) return;
      await growing;
      const workers = await pool.catch(() => [] as PooledWorker[]);
      await Promise.all(workers.map((pooled) => pooled.worker.terminate()));
    },
  };
}

/**
 * Queues a request for `pooled`: the requests made in one turn of the event loop (a decompressed chunk holds many
 * small files) go as one message, which the worker answers with one. Per file, a message each way cost more than
 * analysing a small text file. A worker that has failed is not written to: its requests were rejected already.
 */
function send(pooled: PooledWorker, request: AnalysisRequest): void {
  if (pooled.outbox.push(request) > 1) return;
  setImmediate(() => {
    const requests = pooled.outbox;
    pooled.outbox = [];
    if (!pooled.failure) pooled.worker.postMessage({ requests } satisfies PoolMessage);
  });
}

function startWorker(index: number, data: AnalysisWorkerData): Promise<PooledWorker> {
  return new Promise((resolve, reject) => {
    const worker = createWorker(data);
    const pooled: PooledWorker = { worker, pending: new Map(), outbox: [], hasSlab: false };
    const failAll = (error: Error) => {
      pooled.failure ??= error;
      for (const { reject: rejectFile } of pooled.pending.values()) rejectFile(error);
      pooled.pending.clear();
    };
    worker.on('message', (message: WorkerMessage) => {
      if ('ready' in message) resolve(pooled);
      else if ('failed' in message) reject(new NomineError('internal', `analysis worker ${index} could not start: ${message.failed}`, 'scanner'));
      else {
        for (const { id, result } of message.results) {
          const waiting = pooled.pending.get(id);
          pooled.pending.delete(id);
          waiting?.resolve(result);
        }
      }
    });
    worker.on('error', (error) => {
      const failure = new NomineError('internal', `analysis worker ${index} failed: ${error.message}`, 'scanner', { cause: error });
      failAll(failure);
      reject(failure);
    });
    worker.on('exit', (code) => failAll(new NomineError('internal', `analysis worker ${index} exited with code ${code}`, 'scanner')));
  });
}
