/**
 * Judging: compares one event with its workload's profile. Poisoning verdicts (miners, drift, deleted executables,
 * mining pools) are deviations in every phase and mode; anything else outside the profile is a deviation only once
 * the profile enforces (phase `enforcing`, mode other than `learn`). Pure: the CPU detector's per-entity state
 * comes in with the facts and goes out with the judgement.
 */
import type { EventOf, RuntimeEvent } from '../agent/event.ts';
import type { AlertRule } from '../alerts/alert.ts';
import { defaultEnvelopeMargin, isAbove, type EnvelopeMargin, type SustainedCpu } from './cpu-envelope.ts';
import {
  dedupeKeyFor,
  describeEvent,
  egressAllowed,
  fileWritesAllowed,
  formatEndpoint,
  listenAllowed,
  processesAllowed,
  ruleSeverity,
  shortDigest,
  summariseList,
  type Deviation,
} from './deviation.ts';
import { generalisePath, matchesPattern } from './generalise-path.ts';
import { egressCovers } from './learn.ts';
import type { MiningPools } from './mining-pools.ts';
import { poisoningVerdict, type BehaviourFacts, type PoisoningVerdict } from './poisoning.ts';
import type { Profile } from './profile.ts';

export interface JudgeFacts extends BehaviourFacts {
  /** The CPU detector's state for this entity before this sample (from the previous judgement's `cpu`). */
  cpu?: SustainedCpu;
}

export type Judgement = ({ allowed: true } | { allowed: false; deviation: Deviation }) & {
  /** For cpu-sample events: the detector's state after this sample, to pass in with the next one. */
  cpu?: SustainedCpu;
};

/**
 * The runtime starts a container's first process (containerd's shim) and every `docker exec`/`kubectl exec` (runc):
 * for a program started from outside the container, which of them did is no sign of an exploit.
 */
export function isContainerRuntime(exe: string): boolean {
  return /(?:^|\/)(?:runc|crun|runsc|conmon|containerd-shim(?:-[a-z0-9-]+)?)$/.test(exe);
}

/** Does the profile enforce — alert on, or act against — behaviour it did not learn? */
export function isEnforcing(profile: Profile): boolean {
  return profile.phase === 'enforcing' && profile.mode !== 'learn';
}

function deviation(profile: Profile, event: RuntimeEvent, rule: AlertRule, subject: string, summary: string, allowed: string, onItsFace = false): Deviation {
  return { rule, severity: ruleSeverity[rule], seen: describeEvent(event), allowed, summary, dedupeKey: dedupeKeyFor(rule, profile.id, subject), onItsFace };
}

function fromVerdict(profile: Profile, event: RuntimeEvent, verdict: PoisoningVerdict): Deviation {
  return { ...deviation(profile, event, verdict.rule, verdict.subject, verdict.summary, verdict.allowed, true), severity: verdict.severity };
}

/** An overridable verdict (stratum port, written executable) the user allowed for this workload by approving it. */
function isApprovedException(profile: Profile, event: RuntimeEvent, verdict: PoisoningVerdict): boolean {
  if (!verdict.overridable) return false;
  if (event.type === 'connect') {
    return profile.allow.egress.some((entry) => entry.source === 'approved' && egressCovers(entry, event.address, event.port, event.protocol));
  }
  if (event.type === 'exec') {
    // The digest must match too: approving an installer's output does not approve whatever replaces it later.
    return event.sha256 !== undefined && profile.allow.processes.some((entry) => entry.source === 'approved' && entry.exe === event.exe && entry.sha256.includes(event.sha256!));
  }
  return false;
}

function judgeExec(profile: Profile, event: EventOf<'exec'>): Deviation | undefined {
  const allow = profile.allow;
  const entry = allow.processes.find((item) => item.exe === event.exe);
  if (!entry) {
    return deviation(profile, event, 'process-not-allowed', event.exe, `ran ${event.exe}, which its profile does not allow (${processesAllowed(allow, 'learned')})`,
      processesAllowed(allow));
  }
  // Same path, other content: the file was replaced (a trojaned binary, or a miner renamed over a known name).
  if (event.sha256 && entry.sha256.length > 0 && !entry.sha256.includes(event.sha256)) {
    const known = summariseList(entry.sha256.map(shortDigest), 'digest');
    return deviation(profile, event, 'process-not-allowed', `${event.exe}@${event.sha256}`,
      `ran ${event.exe} with content (sha256 ${shortDigest(event.sha256)}) its profile never saw for that path (${known}): the file was replaced`,
      `${event.exe} with ${known}`);
  }
  // A known program started by an unknown parent: a shell spawned by a web server is how exploits look.
  if (event.parentExe && entry.parents.length > 0 && !entry.parents.includes(event.parentExe) && !(isContainerRuntime(event.parentExe) && entry.parents.some(isContainerRuntime))) {
    const parents = summariseList(entry.parents, 'parent');
    return deviation(profile, event, 'process-not-allowed', `${event.exe}<-${event.parentExe}`,
      `ran ${event.exe} from ${event.parentExe}, which its profile does not allow (${event.exe} learned with ${parents})`,
      `${event.exe} started by ${parents}`);
  }
  return undefined;
}

function judgeConnect(profile: Profile, event: EventOf<'connect'>): Deviation | undefined {
  if (profile.allow.egress.some((entry) => egressCovers(entry, event.address, event.port, event.protocol))) return undefined;
  const endpoint = formatEndpoint(event.address, event.port, event.protocol);
  return deviation(profile, event, 'egress-not-allowed', endpoint,
    `connected to ${endpoint}, which its profile does not allow (${egressAllowed(profile.allow, 'learned')})`, egressAllowed(profile.allow));
}

function judgeListen(profile: Profile, event: EventOf<'listen' | 'accept'>): Deviation | undefined {
  const port = event.type === 'listen' ? event.port : event.localPort;
  if (port === undefined) return undefined;
  if (profile.allow.listen.some((entry) => entry.port === port && entry.protocol === event.protocol)) return undefined;
  const what = event.type === 'listen' ? `listened on port ${port}/${event.protocol}` : `accepted a connection on port ${port}/${event.protocol}`;
  return deviation(profile, event, 'listen-not-allowed', `${port}/${event.protocol}`,
    `${what}, which its profile does not allow (${listenAllowed(profile.allow, 'learned')})`, listenAllowed(profile.allow));
}

function judgeFileWrite(profile: Profile, event: EventOf<'file-write'>): Deviation | undefined {
  if (profile.allow.fileWrites.some((entry) => matchesPattern(event.path, entry.pattern))) return undefined;
  return deviation(profile, event, 'file-write-not-allowed', generalisePath(event.path),
    `wrote ${event.path}, which its profile does not allow (${fileWritesAllowed(profile.allow, 'learned')})`, fileWritesAllowed(profile.allow));
}

function judgeSyscalls(profile: Profile, event: EventOf<'syscalls'>): Deviation | undefined {
  // No syscalls learned means the sensor gave none while learning: there is nothing to compare with.
  if (!profile.allow.syscalls) return undefined;
  const known = new Set(profile.allow.syscalls);
  const unknown = Object.entries(event.counts).filter(([name, count]) => typeof count === 'number' && count > 0 && !known.has(name)).map(([name]) => name).sort();
  if (unknown.length === 0) return undefined;
  const names = unknown.join(', ');
  return deviation(profile, event, 'syscall-not-allowed', unknown.join(','),
    `made ${unknown.length === 1 ? 'the syscall' : 'syscalls'} ${names}, which its profile does not allow (${known.size} syscalls learned)`,
    `${known.size} syscalls`);
}

/** Judges one event. `facts` are what the agent knows beyond the event (scan verdict, executable origin, CPU state). */
export function judge(profile: Profile, event: RuntimeEvent, facts: JudgeFacts, pools: MiningPools, margin: EnvelopeMargin = defaultEnvelopeMargin): Judgement {
  const verdict = poisoningVerdict(event, facts, pools);
  if (verdict && !isApprovedException(profile, event, verdict)) return { allowed: false, deviation: fromVerdict(profile, event, verdict) };
  if (!isEnforcing(profile)) return { allowed: true };

  let found: Deviation | undefined;
  switch (event.type) {
    case 'exec':
      found = judgeExec(profile, event);
      break;
    case 'connect':
      found = judgeConnect(profile, event as EventOf<'connect'>); // ConnectBody's type is a union: narrowing keeps it wide
      break;
    case 'listen':
    case 'accept':
      found = judgeListen(profile, event as EventOf<'listen' | 'accept'>);
      break;
    case 'file-write':
      found = judgeFileWrite(profile, event);
      break;
    case 'syscalls':
      found = judgeSyscalls(profile, event);
      break;
    case 'cpu-sample': {
      const result = isAbove(profile.allow.cpu, event.cores, facts.cpu, margin);
      if (!result.sustained) return { allowed: true, cpu: result.state };
      const envelope = profile.allow.cpu.quantileCores;
      const cpuDeviation = deviation(profile, event, 'cpu-above-envelope', 'cpu',
        `used ${event.cores} cores for ${result.state.consecutive} samples in a row, above its learned envelope of ${envelope} cores (p99; it alerts above ${result.threshold} cores)`,
        `up to ${envelope} cores (p99 of ${profile.allow.cpu.samples} samples)`);
      return { allowed: false, deviation: cpuDeviation, cpu: result.state };
    }
    case 'exit':
      break;
  }
  return found ? { allowed: false, deviation: found } : { allowed: true };
}
