/**
 * The scanner's judgement of an executable as it runs: the bytes behind /proc/PID/exe (so a deleted or memfd binary
 * is judged too) go through the same file analyzers and verdict as `nomine scan`. A miner flagged here is never
 * learned and alerts even while the workload is still learning. Verdicts are cached by SHA-256 (bounded).
 */
import { open } from 'node:fs/promises';
import { fileAnalyzers } from '../../scan/analyzers/index.ts';
import { runAnalyzers } from '../../scan/file-analysis.ts';
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
}

export interface ExecutableJudge {
  judge(pid: number, sha256: string, exePath: string): Promise<ExecutableVerdict | undefined>;
}

export function createExecutableJudge(signatures: Signatures): ExecutableJudge {
  const analyzers: FileAnalyzer[] = Object.values(fileAnalyzers);
  const cache = new Map<string, Promise<ExecutableVerdict | undefined>>();

  async function judgeBytes(pid: number, sha256: string, exePath: string): Promise<ExecutableVerdict | undefined> {
    let handle;
    try {
      handle = await open(`/proc/${pid}/exe`, 'r');
    } catch {
      return undefined; // the process exited before it could be read: nothing to judge, and said by the caller's hashError
    }
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.alloc(Math.min(size, maxJudgedBytes));
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
      const entry = { path: exePath.replace(/^\/+/, ''), type: 'file' as const, size, mode: 0o755 };
      const head = bytes.subarray(0, Math.min(bytesRead, 4096));
      const wanted = analyzers.filter((analyzer) => analyzer.wants({ entry, head }));
      const result = await runAnalyzers(wanted, { entry, bytes: bytes.subarray(0, bytesRead), truncated: bytesRead < size, sha256, layer: 'runtime' }, signatures);
      const decision = decideVerdict(result.signals);
      return { verdict: decision.verdict, reasons: decision.reasons };
    } finally {
      await handle.close();
    }
  }

  return {
    judge(pid, sha256, exePath) {
      let verdict = cache.get(sha256);
      if (!verdict) {
        verdict = judgeBytes(pid, sha256, exePath).catch(() => undefined);
        if (cache.size >= maxCachedVerdicts) cache.delete(cache.keys().next().value!);
        cache.set(sha256, verdict);
        // A process gone before reading leaves no verdict; let the next sighting try again.
        void verdict.then((value) => value === undefined && cache.delete(sha256));
      }
      return verdict;
    },
  };
}
