/**
 * Predicates: the few judgements a field path and an operator cannot express, as pure TS functions named from a
 * check's `predicate:`. A literal map, so a check naming an unknown predicate is rejected when checks load.
 */
import type { Facts } from './check-definition.ts';

export interface PredicateOutcome {
  ok: boolean;
  /** Concrete field paths and why they fail, for evidence. */
  failures: { path: string; message: string }[];
}

/** Kubernetes' safe sysctl set (Pod Security Standards, baseline): namespaced and isolated from the node. */
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

function podSysctlsAreSafe(facts: Facts): PredicateOutcome {
  const spec = (facts.pod as { spec?: { securityContext?: { sysctls?: unknown } } } | undefined)?.spec;
  const sysctls = spec?.securityContext?.sysctls;
  const failures: PredicateOutcome['failures'] = [];
  if (Array.isArray(sysctls)) {
    sysctls.forEach((entry, index) => {
      const name = (entry as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || !safeSysctls.has(name)) {
        failures.push({ path: `pod.spec.securityContext.sysctls[${index}].name`, message: `sysctl ${JSON.stringify(name)} is not in the safe set` });
      }
    });
  }
  return { ok: failures.length === 0, failures };
}

export const predicates = {
  'k8s.pod-sysctls-safe': podSysctlsAreSafe,
} satisfies Record<string, (facts: Facts) => PredicateOutcome>;

export type PredicateName = keyof typeof predicates;

export function isPredicateName(name: string): name is PredicateName {
  return Object.hasOwn(predicates, name);
}
