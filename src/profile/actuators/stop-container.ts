/**
 * stop mode: stop the whole container (a workload that ran a miner is not trusted to keep running). Docker
 * containers are stopped through the Engine API with no grace period; elsewhere the container's init process is
 * killed, which ends the container. The host is never stopped: the offending process is killed instead.
 */
import type { DockerClient } from '../../platform/docker-client.ts';
import type { ActionOutcome, ActionTarget, Actuator } from './actuator.ts';
import { killProcessActuator, killProcess } from './kill-process.ts';

export function stopContainerActuator(docker: () => DockerClient, options: { pause?: boolean } = {}): Actuator {
  return {
    async apply(target: ActionTarget): Promise<ActionOutcome> {
      const started = performance.now();
      const took = () => Math.round((performance.now() - started) * 100) / 100;
      if (target.runtime === 'host') {
        const killed = await killProcessActuator.apply(target);
        return { ...killed, reason: `the host is never stopped; ${killed.reason}` };
      }
      // Kill the offender first (after the same pid-reuse check as prevent mode): stopping a container takes longer
      // than a miner needs to reach its pool.
      await killProcessActuator.apply(target);
      if (target.runtime === 'docker') {
        const action = options.pause ? 'pause' : 'stop';
        try {
          const response = await docker().request({ method: 'POST', path: `/containers/${encodeURIComponent(target.entityId)}/${action}`, query: action === 'stop' ? { t: '0' } : {}, part: `container ${target.entityName}` });
          response.body.resume();
          return { taken: options.pause ? 'paused' : 'stopped', reason: `container ${target.entityName} was ${options.pause ? 'paused' : 'stopped'}`, tookMs: took() };
        } catch (error) {
          return { taken: 'failed', reason: `could not ${action} container ${target.entityName}: ${(error as Error).message}`, tookMs: took() };
        }
      }
      if (target.initPid === undefined || target.initPid <= 1) return { taken: 'failed', reason: `container ${target.entityName} has no known init process to stop`, tookMs: took() };
      const result = killProcess(target.initPid);
      return result === 'forbidden'
        ? { taken: 'failed', reason: `not permitted to kill the init process of ${target.entityName}`, tookMs: took() }
        : { taken: 'stopped', reason: `container ${target.entityName} was stopped (its init process ${target.initPid} was killed)`, tookMs: took() };
    },
  };
}
