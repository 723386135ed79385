/**
 * The analysis worker: a thread that builds the scanner's signatures from the bundle it is handed (or, without
 * one, loads them and checks their version against the scanner's, so a rule file edited mid-scan cannot mix
 * verdicts) and runs analyzers on the files it is sent. File contents arrive as a region of the shared slab (read
 * in place) or, for a file too large for it, as a copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { signaturesFromBundle, type SignatureBundle } from '../signatures/signature-bundle.ts';
import type { Signatures } from '../signatures/signatures.ts';
import { fileAnalyzers } from './analyzers/index.ts';
import { memoisedAnalyzers, type AnalysedFile, type FileForAnalysis } from './file-analysis.ts';

export interface AnalysisWorkerData {
  signatureDirs: string[];
  signatureVersion: string;
  /** The scanner's signatures as loaded; the worker reads the directories itself when absent. */
  bundle?: SignatureBundle;
}

export interface AnalysisRequest {
  id: number;
  file: Omit<FileForAnalysis, 'bytes'> & ({ bytes: Uint8Array } | { shared: { offset: number; length: number } });
  analyzerIds: string[];
}

/**
 * What the pool sends: the slab (once, before the first request naming it), or the requests gathered since its
 * last message (one message per batch: a layer of small files costs one round trip per batch, not per file).
 */
export type PoolMessage = { slab: SharedArrayBuffer } | { requests: AnalysisRequest[] };

/** What a worker answers: once ready (or not), then the results of each batch in one message. */
export type WorkerMessage = { ready: true } | { failed: string } | { results: { id: number; result: AnalysedFile }[] };

const data = workerData as AnalysisWorkerData;
const port = parentPort!;
const analyzers = new Map(Object.values(fileAnalyzers).map((analyzer) => [analyzer.id, analyzer]));
let slab: SharedArrayBuffer | undefined;

function contentOf(file: AnalysisRequest['file']): Buffer {
  if ('bytes' in file) return Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);
  if (!slab) throw new Error('a request named the shared slab before the slab arrived');
  return Buffer.from(slab, file.shared.offset, file.shared.length);
}

async function workerSignatures(): Promise<Signatures> {
  if (data.bundle) return signaturesFromBundle(data.bundle);
  // Loaded on demand: the YAML parser and the schema library cost ~20 MB in every worker that imports them.
  const { loadSignatures } = await import('../signatures/load-signatures.ts');
  return loadSignatures(data.signatureDirs);
}

try {
  const signatures = await workerSignatures();
  if (signatures.version !== data.signatureVersion) throw new Error('signature files changed while the scan started; run it again');
  const analyze = memoisedAnalyzers(analyzers, signatures);
  port.on('message', async (message: PoolMessage) => {
    if ('slab' in message) {
      slab = message.slab;
      return;
    }
    const results: { id: number; result: AnalysedFile }[] = [];
    for (const { id, file: sent, analyzerIds } of message.requests) {
      const { entry, truncated, sha256, layer } = sent;
      results.push({ id, result: await analyze({ entry, truncated, sha256, layer, bytes: contentOf(sent) }, analyzerIds) });
    }
    port.postMessage({ results } satisfies WorkerMessage);
  });
  port.postMessage({ ready: true } satisfies WorkerMessage);
} catch (error) {
  port.postMessage({ failed: (error as Error).message } satisfies WorkerMessage);
}
