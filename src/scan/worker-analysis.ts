/**
 * A pool of analysis worker threads. Files go to the least busy worker; the caller bounds how many bytes are in
 * flight. A worker that dies fails its files with an error naming it, and the pool reports the failure.
 */
import { Worker } from 'node:worker_threads';
import { NomineError } from '../core/errors.ts';
import type { AnalysisRequest, AnalysisWorkerData } from './analysis-worker.ts';
import type { AnalysisResult, FileAnalysis } from './file-analysis.ts';

// Under tsx the sources run as .ts; after tsc they are .js beside this file.
const runningFromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(runningFromSource ? './analysis-worker.ts' : './analysis-worker.js', import.meta.url);

/**
 * Built code starts the worker file itself. From source (tests, tsx), a worker inherits no module hooks, so a small
 * bootstrap registers tsx in the worker before importing the TypeScript file.
 */
function createWorker(data: AnalysisWorkerData): Worker {
  const options = { workerData: data, resourceLimits: workerHeapLimits };
  if (!runningFromSource) return new Worker(workerUrl, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * A worker's heap grows lazily toward V8's default limit (gigabytes) and keeps file copies alive until it collects;
 * a small young generation makes it collect often, which is what keeps a scan's resident memory flat. The old
 * generation still fits a latin1 copy of the largest analyzed file (limits.maxAnalyzedFileBytes) several times.
 */
const workerHeapLimits = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };

interface PooledWorker {
  worker: Worker;
  pending: Map<number, { resolve: (result: AnalysisResult) => void; reject: (error: Error) => void }>;
}

/**
 * Workers start on the first file that needs analysis: a scan served entirely from the layer cache starts none
 * (each would load and compile the signatures again).
 */
export function workerAnalysis(size: number, data: AnalysisWorkerData): FileAnalysis {
  let pool: Promise<PooledWorker[]> | undefined;
  let nextId = 0;
  return {
    async analyze(file, analyzerIds) {
      pool ??= Promise.all(Array.from({ length: size }, (_, index) => startWorker(index, data)));
      const workers = await pool;
      const target = workers.reduce((best, candidate) => (candidate.pending.size < best.pending.size ? candidate : best));
      const id = nextId++;
      return new Promise<AnalysisResult>((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        const request: AnalysisRequest = { id, file, analyzerIds: [...analyzerIds] };
        target.worker.postMessage(request);
      });
    },
    async close() {
      if (!pool) return;
      const workers = await pool.catch(() => [] as PooledWorker[]);
      await Promise.all(workers.map((pooled) => pooled.worker.terminate()));
    },
  };
}

function startWorker(index: number, data: AnalysisWorkerData): Promise<PooledWorker> {
  return new Promise((resolve, reject) => {
    const worker = createWorker(data);
    const pooled: PooledWorker = { worker, pending: new Map() };
    const failAll = (error: Error) => {
      for (const { reject: rejectFile } of pooled.pending.values()) rejectFile(error);
      pooled.pending.clear();
    };
    worker.on('message', (message: { ready?: true; failed?: string; id?: number; result?: AnalysisResult }) => {
      if (message.ready) resolve(pooled);
      else if (message.failed) reject(new NomineError('internal', `analysis worker ${index} could not start: ${message.failed}`, 'scanner'));
      else if (message.id !== undefined) {
        const waiting = pooled.pending.get(message.id);
        pooled.pending.delete(message.id);
        waiting?.resolve(message.result!);
      }
    });
    worker.on('error', (error) => {
      const failure = new NomineError('internal', `analysis worker ${index} failed: ${error.message}`, 'scanner', { cause: error });
      failAll(failure);
      reject(failure);
    });
    worker.on('exit', (code) => {
      if (pooled.pending.size > 0) failAll(new NomineError('internal', `analysis worker ${index} exited with code ${code}`, 'scanner'));
    });
  });
}
