/**
 * Deviations: what `judge` reports when an event falls outside a profile, or is malicious on its face. Each says,
 * in words a person can act on, what was seen and what the profile allows; the alert pipeline adds the entity,
 * the workload and the action. Identical deviations share a dedupeKey so they aggregate into one alert.
 */
import type { RuntimeEvent } from '../agent/event.ts';
import type { AlertRule } from '../alerts/alert.ts';
import type { Severity } from '../core/severity.ts';
import type { Allowances, EgressAllowance, ListenAllowance } from './profile.ts';

export interface Deviation {
  rule: AlertRule;
  severity: Severity;
  /** What was seen: `exec /tmp/xmrig (sha256 ab12cd34ef56…) by /bin/sh, pid 4242`. */
  seen: string;
  /** What the profile allows, in short: `3 executables: /bin/busybox, /bin/sh, /bin/httpd`. */
  allowed: string;
  /** The sentence after the workload's name: `ran /tmp/xmrig, which its profile does not allow (12 executables learned: …)`. */
  summary: string;
  /** rule + profile + the thing seen (an executable, a destination, a path pattern): duplicates aggregate on it. */
  dedupeKey: string;
  /** Malicious on its face (a poisoning verdict): alerts in every phase and is never learned. */
  onItsFace: boolean;
}

/** Severity by rule: behaviour that is mining or hiding outranks behaviour that is merely new. */
export const ruleSeverity: Record<AlertRule, Severity> = {
  'miner-executable': 'critical',
  'mining-pool': 'critical',
  drift: 'high',
  'deleted-executable': 'high',
  'process-not-allowed': 'high',
  'egress-not-allowed': 'medium',
  'listen-not-allowed': 'medium',
  'file-write-not-allowed': 'medium',
  'syscall-not-allowed': 'medium',
  'cpu-above-envelope': 'medium',
};

const maxListed = 5;
const maxArgvChars = 120;

/**
 * `12 executables: /bin/busybox, /bin/sh, /bin/httpd, /bin/wget, /bin/sleep, … (+7 more)`, or `no executables`;
 * with a qualifier, `12 executables learned: …`.
 */
export function summariseList(items: readonly string[], singular: string, options: { plural?: string; qualifier?: string } = {}): string {
  const plural = options.plural ?? `${singular}s`;
  const qualifier = options.qualifier ? ` ${options.qualifier}` : '';
  if (items.length === 0) return `no ${plural}${qualifier}`;
  const shown = items.slice(0, maxListed).join(', ');
  const more = items.length > maxListed ? `, … (+${items.length - maxListed} more)` : '';
  return `${items.length} ${items.length === 1 ? singular : plural}${qualifier}: ${shown}${more}`;
}

export function shortDigest(sha256: string): string {
  return `${sha256.replace(/^sha256:/, '').slice(0, 12)}…`;
}

export function formatEndpoint(address: string, port: number, protocol: string): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}/${protocol}`;
}

export function egressText(entry: EgressAllowance): string {
  return formatEndpoint(entry.address, entry.port, entry.protocol);
}

export function listenText(entry: ListenAllowance): string {
  return `${entry.port}/${entry.protocol}`;
}

function actor(event: RuntimeEvent): string {
  return event.comm ? `pid ${event.pid} (${event.comm})` : `pid ${event.pid}`;
}

function argvText(argv: readonly string[]): string {
  const joined = argv.slice(1).join(' ');
  if (joined === '') return '';
  return ` ${joined.length > maxArgvChars ? `${joined.slice(0, maxArgvChars)}…` : joined}`;
}

/** One line describing the event, for the alert's `seen`. */
export function describeEvent(event: RuntimeEvent): string {
  switch (event.type) {
    case 'exec': {
      const digest = event.sha256 ? ` (sha256 ${shortDigest(event.sha256)})` : event.hashError ? ` (not hashed: ${event.hashError})` : '';
      const parent = event.parentExe ? ` by ${event.parentExe}` : '';
      const deleted = event.exeDeleted ? ', executable deleted' : '';
      return `exec ${event.exe}${argvText(event.argv)}${digest}${parent}, pid ${event.pid}${deleted}`;
    }
    case 'connect':
      return `connect to ${formatEndpoint(event.address, event.port, event.protocol)}, ${actor(event)}`;
    case 'accept':
      return `accept from ${event.address}${event.localPort !== undefined ? ` on port ${event.localPort}/${event.protocol}` : ''}, ${actor(event)}`;
    case 'listen':
      return `listen on ${formatEndpoint(event.address, event.port, event.protocol)}, ${actor(event)}`;
    case 'file-write':
      return `write ${event.path}, ${actor(event)}`;
    case 'syscalls':
      return `syscalls ${Object.keys(event.counts).sort().join(', ')}`;
    case 'cpu-sample':
      return `${event.cores} cores over ${event.intervalMs} ms`;
    case 'exit':
      return `exit of pid ${event.pid}${event.exitCode !== undefined ? ` with code ${event.exitCode}` : ''}`;
  }
}

export function processesAllowed(allow: Allowances, qualifier?: string): string {
  return summariseList(allow.processes.map((entry) => entry.exe), 'executable', { qualifier });
}

export function egressAllowed(allow: Allowances, qualifier?: string): string {
  return summariseList(allow.egress.map(egressText), 'destination', { qualifier });
}

export function listenAllowed(allow: Allowances, qualifier?: string): string {
  return summariseList(allow.listen.map(listenText), 'listening port', { qualifier });
}

export function fileWritesAllowed(allow: Allowances, qualifier?: string): string {
  return summariseList(allow.fileWrites.map((entry) => entry.pattern), 'write location', { qualifier });
}

export function dedupeKeyFor(rule: AlertRule, profileId: string, subject: string): string {
  return `${rule}|${profileId}|${subject}`;
}
