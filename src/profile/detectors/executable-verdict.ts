/**
 * The scanner's judgement of an executable as it runs: the bytes behind /proc/PID/exe (so a deleted or memfd binary
 * is judged too) go through the same file analyzers and verdict as `nomine scan`. A miner flagged here is never
 * learned and alerts even while the workload is still learning. Verdicts are cached by SHA-256 (bounded).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { fileAnalyzers } from '../../scan/analyzers/index.ts';
import { inlineAnalysis, type FileAnalysis } from '../../scan/file-analysis.ts';
import type { FileAnalyzer } from '../../scan/file-analyzer.ts';
import { decideVerdict } from '../../scan/verdict.ts';
import type { Signatures } from '../../signatures/signatures.ts';

/** Bytes of an executable read for judging; larger files are judged on this prefix (as `nomine scan` does). */
const maxJudgedBytes = 32 * 1024 * 1024;
const maxCachedVerdicts = 10_000;

export interface ExecutableVerdict {
  verdict: 'malicious' | 'suspicious' | 'clean';
  /** `rule: summary` of the signals that decided it. */
  reasons: string[];
  /** SHA-256 of the bytes judged (computed here when the event had none). */
  sha256: string;
}

export interface ExecutableJudge {
  /**
   * `rootPid`: a process of the same container (its init) whose /proc/PID/root leads to the file when the process
   * itself is already gone (a miner killed in the kernel a millisecond after exec). The bytes read that way are only
   * judged when their SHA-256 is the one the event carries, or when the event carries none.
   */
  judge(pid: number, sha256: string | undefined, exePath: string, rootPid?: number): Promise<ExecutableVerdict | undefined>;
}

/** Bytes hashed between yields to the event loop: the agent's other events must not wait for a large binary. */
const hashSliceBytes = 1024 * 1024;

async function sha256Yielding(bytes: Buffer): Promise<string> {
  const digest = createHash('sha256');
  for (let offset = 0; offset < bytes.length; offset += hashSliceBytes) {
    digest.update(bytes.subarray(offset, offset + hashSliceBytes));
    if (offset + hashSliceBytes < bytes.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return digest.digest('hex');
}

/**
 * `analysis`: where the analyzers run. The agent passes a worker thread (rule matching and fuzzy hashing of a large
 * binary take long enough to delay the kill of the next process); tests may leave it inline.
 */
export function createExecutableJudge(signatures: Signatures, analysis?: FileAnalysis): ExecutableJudge {
  const analyzers: FileAnalyzer[] = Object.values(fileAnalyzers);
  const analyze = analysis ?? inlineAnalysis(analyzers, signatures);
  const cache = new Map<string, Promise<ExecutableVerdict | undefined>>();

  async function openExecutable(pid: number, exePath: string, rootPid: number | undefined): Promise<{ handle: FileHandle; viaRoot: boolean } | undefined> {
    try {
      return { handle: await open(`/proc/${pid}/exe`, 'r'), viaRoot: false };
    } catch {
      if (rootPid === undefined || !exePath.startsWith('/')) return undefined;
      try {
        return { handle: await open(`/proc/${rootPid}/root${exePath}`, 'r'), viaRoot: true };
      } catch {
        return undefined; // gone, and its file with it: nothing to judge
      }
    }
  }

  async function judgeBytes(pid: number, expected: string | undefined, exePath: string, rootPid: number | undefined): Promise<ExecutableVerdict | undefined> {
    const opened = await openExecutable(pid, exePath, rootPid);
    if (!opened) return undefined;
    const { handle } = opened;
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.alloc(Math.min(size, maxJudgedBytes));
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
      const whole = bytesRead === size;
      const sha256 = whole ? await sha256Yielding(bytes.subarray(0, bytesRead)) : expected;
      // Through the root, the path may name another file by now: judge it only when it is the one that ran.
      if (opened.viaRoot && expected !== undefined && sha256 !== expected) return undefined;
      if (sha256 === undefined) return undefined;
      const entry = { path: exePath.replace(/^\/+/, ''), type: 'file' as const, size, mode: 0o755 };
      const head = bytes.subarray(0, Math.min(bytesRead, 4096));
      const wanted = analyzers.filter((analyzer) => analyzer.wants({ entry, head }));
      const result = await analyze.analyze({ entry, bytes: bytes.subarray(0, bytesRead), truncated: !whole, sha256, layer: 'runtime' }, wanted.map((analyzer) => analyzer.id));
      const decision = decideVerdict(result.signals);
      return { verdict: decision.verdict, reasons: decision.reasons, sha256 };
    } finally {
      await handle.close();
    }
  }

  return {
    judge(pid, sha256, exePath, rootPid) {
      if (sha256 === undefined) return judgeBytes(pid, undefined, exePath, rootPid).catch(() => undefined);
      let verdict = cache.get(sha256);
      if (!verdict) {
        verdict = judgeBytes(pid, sha256, exePath, rootPid).catch(() => undefined);
        if (cache.size >= maxCachedVerdicts) cache.delete(cache.keys().next().value!);
        cache.set(sha256, verdict);
        // A process gone before reading leaves no verdict; let the next sighting try again.
        void verdict.then((value) => value === undefined && cache.delete(sha256));
      }
      return verdict;
    },
  };
}
