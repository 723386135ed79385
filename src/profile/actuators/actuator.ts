/**
 * Actuators: the hands of enforcement. They act on a target the judge chose and report what happened as a value,
 * never throwing: a process that already exited, a container that is gone or a pid that now belongs to someone
 * else are outcomes, said in words.
 */
import type { ActionTaken } from '../../alerts/alert.ts';

export interface ActionTarget {
  entityId: string;
  entityName: string;
  runtime: 'docker' | 'containerd' | 'host';
  pid: number;
  /** Mount namespace the offending process ran in: checked again before acting, so a reused pid is never hit. */
  mntns?: number;
  /** The container's init process (stop mode on runtimes without an API here). */
  initPid?: number;
}

export interface ActionOutcome {
  taken: ActionTaken;
  reason: string;
  /** Milliseconds the action took. */
  tookMs: number;
}

export interface Actuator {
  apply(target: ActionTarget): Promise<ActionOutcome>;
}
