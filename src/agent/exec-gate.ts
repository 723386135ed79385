/**
 * The exec gate: the fast path of prevent mode. It sees an exec event the moment the sensor hands it over, before
 * the queue, the executable's hash, the origin lookup and the scanner, and kills the process at once when its
 * workload's profile enforces in prevent mode and does not hold the executable's path at all. Everything subtler
 * (same path with other content, an unknown parent, the scanner's verdict) stays with the full judgement, which
 * still alerts on the event and reports the kill. Synchronous on purpose: nothing queued ahead of the event can
 * delay it, and a kill never waits for I/O.
 */
import { readlinkSync } from 'node:fs';
import type { Entity } from './entity.ts';
import type { RawEvent } from './event.ts';
import { parseExeLink } from './sensors/procfs-parse.ts';

/** What the gate needs of an enforcing profile: the executable paths it allows. */
export interface ExecPolicy {
  allowedExes: ReadonlySet<string>;
}

export interface ExecGateOptions {
  /** The running entity in a mount namespace (the registry's lookup). */
  entityOfMntns(mntns: number): Entity | undefined;
  /** The policy that prevents for an entity now, if its profile enforces in prevent mode. */
  policyOf(entity: Entity): ExecPolicy | undefined;
  /** `/proc/PID/exe` and `/proc/PID/ns/mnt` readers; /proc by default. */
  readExe?: (pid: number) => string | undefined;
  readMntns?: (pid: number) => number | undefined;
  kill?: (pid: number) => void;
  now?: () => number;
}

export interface ExecGateStats {
  inspected: number;
  killed: number;
  /** The process was gone, or had changed namespace, by the time the gate looked. */
  vanished: number;
}

export interface ExecGate {
  /** Kills the event's process when its executable is outside a preventing profile; marks the event `killedAtExec`. */
  inspect(raw: RawEvent): void;
  stats(): ExecGateStats;
}

/**
 * The path a profile knows an exec by: the path the sensor reported when it is absolute and direct, else the
 * resolved executable (a relative path, a re-exec through /proc/self/exe or a descriptor name the file only
 * indirectly). The event pipeline's enrichment applies the same rule, so the gate and the judge agree.
 */
export function executablePathOf(reported: string | undefined, resolved: () => string | undefined): string | undefined {
  if (reported && reported.startsWith('/') && !/^\/(?:proc\/|dev\/fd\/)/.test(reported)) return reported;
  return resolved() ?? reported;
}

/** `/proc/PID/exe` as the process sees it, without a ` (deleted)` suffix; undefined once the process is gone. */
export function readExecutableLink(pid: number): string | undefined {
  try {
    return parseExeLink(readlinkSync(`/proc/${pid}/exe`)).path;
  } catch {
    return undefined;
  }
}

function readMntnsFromProc(pid: number): number | undefined {
  try {
    const match = /^mnt:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/mnt`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function createExecGate(options: ExecGateOptions): ExecGate {
  const readExe = options.readExe ?? readExecutableLink;
  const readMntns = options.readMntns ?? readMntnsFromProc;
  const kill = options.kill ?? ((pid: number) => process.kill(pid, 'SIGKILL'));
  const now = options.now ?? Date.now;
  const stats: ExecGateStats = { inspected: 0, killed: 0, vanished: 0 };
  return {
    inspect(raw) {
      if (raw.type !== 'exec' || raw.mntns === undefined || raw.pid <= 0) return;
      const entity = options.entityOfMntns(raw.mntns);
      if (!entity || entity.runtime === 'host') return;
      const policy = options.policyOf(entity);
      if (!policy) return;
      stats.inspected += 1;
      const exe = executablePathOf(raw.exe, () => readExe(raw.pid));
      if (exe === undefined || policy.allowedExes.has(exe)) return;
      // The pid must still be the process that exec'd in that namespace: a reused pid is someone else.
      if (readMntns(raw.pid) !== raw.mntns) {
        stats.vanished += 1;
        return;
      }
      try {
        kill(raw.pid);
      } catch {
        stats.vanished += 1;
        return;
      }
      stats.killed += 1;
      raw.killedAtExec = now();
    },
    stats: () => ({ ...stats }),
  };
}
