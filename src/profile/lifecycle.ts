/**
 * Profile lifecycle: a profile is born learning, switches to enforcing on its own once it has learned for a
 * minimum time AND seen nothing new for a quiet period, and can be approved early, relearned, or given another
 * mode. A new image digest is a new workload key, so an image change starts a fresh profile by itself.
 */
import type { Entity } from '../agent/entity.ts';
import { NomineError } from '../core/errors.ts';
import { emptyAllowances, enforcementModes, type EnforcementMode, type Profile } from './profile.ts';
import { profileIdFor, selectorFor, workloadKeyFor } from './workload-key.ts';

export interface LifecycleSettings {
  /** Learning lasts at least this long, however quiet the workload is. */
  learningMinMs: number;
  /** … and until nothing new was seen for this long. */
  learningQuietMs: number;
}

/**
 * Production defaults. An hour covers start-up, the first health checks, log rotation and the usual periodic
 * jobs of a service; ten quiet minutes means the traffic mix has settled. Workloads with daily or weekly jobs
 * should learn longer (`--learning-min 24h`); anything missed later alerts (default mode) and can be approved.
 */
export const defaultLifecycleSettings: LifecycleSettings = { learningMinMs: 60 * 60_000, learningQuietMs: 10 * 60_000 };

/**
 * The node-wide default mode is `alert`, not `prevent`: a profile learned automatically in an hour can miss a
 * monthly job or a rare error path, and killing that in production is an outage nomine caused. Poisoning verdicts
 * alert in every mode; a user turns `prevent` on per workload (or node-wide) once the alerts are quiet.
 */
export const defaultEnforcementMode: EnforcementMode = 'alert';

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A learning period longer than a year is a typo (`30d` meant, `300d` typed), not a plan. */
export const maxDurationMs = 366 * 86_400_000;

/** `30s`, `10m`, `2h`, `1h30m`, `500ms`, `7d` → milliseconds. A bare number is refused: its unit would be a guess. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 64 || !/^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+$/.test(trimmed)) {
    throw new NomineError('invalid-input', `invalid duration "${text.slice(0, 64)}": expected a number with a unit, like 30s, 10m, 2h or 1h30m`, 'duration');
  }
  let total = 0;
  for (const match of trimmed.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g)) total += Number(match[1]) * durationUnits[match[2]!]!;
  if (total > maxDurationMs) throw new NomineError('invalid-input', `duration "${text}" is longer than 366 days`, 'duration');
  return Math.round(total);
}

/** `90000` → `1m30s`, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join('');
}

export function isEnforcementMode(value: string): value is EnforcementMode {
  return (enforcementModes as readonly string[]).includes(value);
}

/** A fresh profile for an entity's workload, learning from `now`. */
export function createProfile(entity: Entity, now: number, mode: EnforcementMode = defaultEnforcementMode): Profile {
  const key = workloadKeyFor(entity);
  return {
    id: profileIdFor(key),
    key,
    ...(entity.image ? { image: entity.image } : {}),
    mode,
    phase: 'learning',
    learningStartedAt: now,
    lastNewBehaviourAt: now,
    selector: selectorFor(entity),
    ...(entity.kubernetes
      ? { kubernetes: { namespace: entity.kubernetes.namespace, workloadKind: entity.kubernetes.workload?.kind, workloadName: entity.kubernetes.workload?.name } }
      : {}),
    allow: emptyAllowances(),
    revision: 1,
  };
}

export interface LearningProgress {
  /** Time until the minimum learning time has passed (0 when it has). */
  minRemainingMs: number;
  /** Time until the quiet period is complete, if nothing new is seen (0 when it is). */
  quietRemainingMs: number;
}

export function learningProgress(profile: Profile, now: number, settings: LifecycleSettings): LearningProgress {
  return {
    minRemainingMs: Math.max(0, profile.learningStartedAt + settings.learningMinMs - now),
    quietRemainingMs: Math.max(0, profile.lastNewBehaviourAt + settings.learningQuietMs - now),
  };
}

/** Switches learning → enforcing when both periods have passed; returns the same object otherwise. */
export function nextPhase(profile: Profile, now: number, settings: LifecycleSettings = defaultLifecycleSettings): Profile {
  if (profile.phase !== 'learning') return profile;
  const progress = learningProgress(profile, now, settings);
  if (progress.minRemainingMs > 0 || progress.quietRemainingMs > 0) return profile;
  return { ...profile, phase: 'enforcing', enforcingSince: now, revision: profile.revision + 1 };
}

/**
 * nextPhase for an agent whose sensor has watched only since `observedSince` (undefined: it is not watching now).
 * Time without a sensor teaches nothing, so it counts neither toward the minimum nor toward the quiet period: a
 * profile created by a CPU sample while the sensor was still attaching must not enforce an empty allow-list.
 */
export function nextObservedPhase(profile: Profile, now: number, settings: LifecycleSettings, observedSince: number | undefined): Profile {
  if (profile.phase !== 'learning' || observedSince === undefined) return profile;
  const view = { ...profile, learningStartedAt: Math.max(profile.learningStartedAt, observedSince), lastNewBehaviourAt: Math.max(profile.lastNewBehaviourAt, observedSince) };
  const advanced = nextPhase(view, now, settings);
  return advanced === view ? profile : { ...profile, phase: advanced.phase, enforcingSince: now, revision: advanced.revision };
}

/** `nomine profile approve`: enforce now what was learned so far. */
export function approve(profile: Profile, now: number): Profile {
  if (profile.phase === 'enforcing') return profile;
  return { ...profile, phase: 'enforcing', enforcingSince: now, revision: profile.revision + 1 };
}

/** `nomine profile relearn`: forget the allowances and learn again from `now`; mode and identity stay. */
export function relearn(profile: Profile, now: number): Profile {
  const { enforcingSince: _dropped, ...rest } = profile;
  return { ...rest, phase: 'learning', learningStartedAt: now, lastNewBehaviourAt: now, allow: emptyAllowances(profile.allow.cpu.bucketCores), revision: profile.revision + 1 };
}

/** `nomine profile set-mode`: validated here because the mode comes from a command line or an API body. */
export function setMode(profile: Profile, mode: string): Profile {
  if (!isEnforcementMode(mode)) {
    throw new NomineError('invalid-input', `unknown mode "${mode.slice(0, 32)}": expected one of ${enforcementModes.join(', ')}`, `profile ${profile.id}`);
  }
  if (profile.mode === mode) return profile;
  return { ...profile, mode, revision: profile.revision + 1 };
}
