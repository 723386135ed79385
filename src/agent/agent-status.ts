/**
 * The running agent's status, written atomically to $NOMINE_HOME/agent/status.json every few seconds, so
 * `nomine agent status` (another process, maybe another user with access to the data directory) can read the
 * sensor in use, the queue and drop counters, attribution and alert figures without a network port.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NomineError } from '../core/errors.ts';

export interface AgentStatus {
  pid: number;
  startedAt: number;
  updatedAt: number;
  sensor: { name: string; reason: string; state: string; lastMessage?: string; restarts: number; lostEvents: number };
  queue: { capacity: number; depth: number; highWater: number; enqueued: number; dropped: number; droppedByKind: Record<string, number> };
  events: { processed: number; byType: Record<string, number> };
  entities: number;
  attribution: Record<string, number>;
  profiles?: { total: number; learning: number; enforcing: number };
  alerts?: Record<string, unknown>;
  runtimes: Record<string, string>;
  /** The exec gate of prevent mode: execs it looked at and killed (exec-gate.ts). */
  execGate?: { inspected: number; killed: number; vanished: number };
  /** How late the agent's event loop ran timers since it started: a stall here delays every kill that is not in the kernel. */
  eventLoopDelay?: { p50Ms: number; p99Ms: number; maxMs: number };
  /** The link with the console, when the node is enrolled (src/agent/console/console-link.ts). */
  console?: { server: string; batches: number; refused: number; failures: number; isFailing: boolean; lastError?: string; syncedRevision: number; profilesApplied: number; summariesDropped: number };
}

export function agentStatusFile(dataHome: string): string {
  return join(dataHome, 'agent', 'status.json');
}

export function writeAgentStatus(dataHome: string, status: AgentStatus): void {
  const file = agentStatusFile(dataHome);
  mkdirSync(join(dataHome, 'agent'), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export function readAgentStatus(dataHome: string): AgentStatus {
  const file = agentStatusFile(dataHome);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new NomineError('not-found', 'no agent status: is `nomine agent run` running with this data directory?', file);
  }
  try {
    return JSON.parse(text) as AgentStatus;
  } catch (error) {
    throw new NomineError('invalid-input', `the agent status file is not JSON: ${(error as Error).message}`, file);
  }
}
