/**
 * prevent mode: kill the offending process at once with SIGKILL (a miner gets no chance to clean up or fork). The
 * pid is checked against the mount namespace the event came from first, because between the event and the kill the
 * process may have exited and its pid been reused by an innocent one.
 */
import { readlink } from 'node:fs/promises';
import type { ActionOutcome, ActionTarget, Actuator } from './actuator.ts';

export async function namespaceOf(pid: number): Promise<number | undefined> {
  const link = await readlink(`/proc/${pid}/ns/mnt`).catch(() => undefined);
  const match = link && /\[(\d+)\]/.exec(link);
  return match ? Number(match[1]) : undefined;
}

export function killProcess(pid: number): 'killed' | 'gone' | 'forbidden' {
  try {
    process.kill(pid, 'SIGKILL');
    return 'killed';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : 'forbidden';
  }
}

export const killProcessActuator: Actuator = {
  async apply(target: ActionTarget): Promise<ActionOutcome> {
    const started = performance.now();
    const took = () => Math.round((performance.now() - started) * 100) / 100;
    if (target.pid <= 1 || target.pid === process.pid) return { taken: 'failed', reason: `refused to kill pid ${target.pid}`, tookMs: took() };
    if (target.mntns !== undefined) {
      const current = await namespaceOf(target.pid);
      if (current === undefined) return { taken: 'none', reason: `process ${target.pid} had already exited`, tookMs: took() };
      if (current !== target.mntns) return { taken: 'none', reason: `pid ${target.pid} now belongs to another process (mount namespace changed); not killed`, tookMs: took() };
    }
    const result = killProcess(target.pid);
    if (result === 'killed') return { taken: 'killed', reason: `process ${target.pid} was killed (SIGKILL)`, tookMs: took() };
    if (result === 'gone') return { taken: 'none', reason: `process ${target.pid} had already exited`, tookMs: took() };
    return { taken: 'failed', reason: `not permitted to kill process ${target.pid} (the agent needs root or CAP_KILL)`, tookMs: took() };
  },
};
