/**
 * The analysis worker: a thread that loads the same signatures as the scanner and runs analyzers on the files it is
 * sent. It checks the signature version against the scanner's, so a rule file edited mid-scan cannot mix verdicts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSignatures } from '../signatures/load-signatures.ts';
import { fileAnalyzers } from './analyzers/index.ts';
import { runAnalyzers } from './file-analysis.ts';
import type { FileContent } from './layer-entry.ts';

export interface AnalysisWorkerData {
  signatureDirs: string[];
  signatureVersion: string;
}

export interface AnalysisRequest {
  id: number;
  file: Omit<FileContent, 'bytes'> & { bytes: Uint8Array };
  analyzerIds: string[];
}

const data = workerData as AnalysisWorkerData;
const port = parentPort!;
const analyzers = new Map(Object.values(fileAnalyzers).map((analyzer) => [analyzer.id, analyzer]));

try {
  const signatures = await loadSignatures(data.signatureDirs);
  if (signatures.version !== data.signatureVersion) throw new Error('signature files changed while the scan started; run it again');
  port.on('message', async (request: AnalysisRequest) => {
    const { bytes, ...rest } = request.file;
    const file: FileContent = { ...rest, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    const result = await runAnalyzers(request.analyzerIds.map((id) => analyzers.get(id)!), file, signatures);
    port.postMessage({ id: request.id, result });
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ failed: (error as Error).message });
}
