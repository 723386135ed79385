/**
 * The profile engine: what `nomine agent run` does with every attributed event. Per event: advance the profile's
 * phase, gather the facts the event does not carry (drift, the scanner's verdict on the executable), judge, act
 * according to the workload's mode, alert, then learn what poisoning allows. Acting comes before everything slow:
 * an executable outside an enforcing profile is killed before the scanner looks at it.
 */
import type { Alert } from '../alerts/alert.ts';
import type { AlertDraft } from '../alerts/aggregate.ts';
import type { Entity } from './entity.ts';
import type { ExecPolicy } from './exec-gate.ts';
import type { RuntimeEvent } from './event.ts';
import type { EntityRegistry } from './entity-registry.ts';
import type { SustainedCpu } from '../profile/cpu-envelope.ts';
import type { Deviation } from '../profile/deviation.ts';
import type { ExecutableJudge } from '../profile/detectors/executable-verdict.ts';
import type { createOriginResolver } from '../profile/detectors/executable-origin.ts';
import { NomineError } from '../core/errors.ts';
import { isEnforcing, judge, type JudgeFacts } from '../profile/judge.ts';
import { learn } from '../profile/learn.ts';
import { createProfile, nextObservedPhase, type LifecycleSettings } from '../profile/lifecycle.ts';
import type { MiningPools } from '../profile/mining-pools.ts';
import { poisoningVerdict } from '../profile/poisoning.ts';
import type { EnforcementMode, Profile } from '../profile/profile.ts';
import type { ProfileChange, ProfileStore } from '../profile/profile-store.ts';
import { profileIdFor, workloadFor, workloadKeyFor } from '../profile/workload-key.ts';
import type { ActionOutcome, ActionTarget, Actuator } from '../profile/actuators/actuator.ts';

/** Poisoned processes remembered so their later events are never learned. */
const maxPoisonedProcesses = 16_384;
/** How often learned changes are written to the store (phase changes are written at once). */
export const profileFlushIntervalMs = 1000;

export interface ProfileEngineOptions {
  store: ProfileStore;
  registry: EntityRegistry;
  pools: MiningPools;
  settings: LifecycleSettings;
  /** Mode of a workload seen for the first time. */
  defaultMode: EnforcementMode;
  /** Mode of the host entity's profile (learn by default: a host runs everything; poisoning still alerts). */
  hostMode: EnforcementMode;
  executables: ExecutableJudge;
  origins: ReturnType<typeof createOriginResolver>;
  actuators: { kill: Actuator; stop: Actuator };
  alerts: { submit(draft: AlertDraft): Alert | undefined };
  /** In-kernel enforcement of stratum-port connects, when the sensor has it: told each entity's current mode. */
  kernelEnforcement?: (entity: Entity, mode: EnforcementMode) => void;
  now: () => number;
  /** Since when the sensor has been watching without a gap; undefined while it is not. Learning counts only then. */
  observedSince?: () => number | undefined;
  log: (message: string) => void;
}

export interface ProfileEngineStats {
  profiles: number;
  learning: number;
  enforcing: number;
  deviations: number;
  actions: Record<string, number>;
  storeErrors: number;
}

export interface ProfileEngine {
  handle(event: RuntimeEvent): Promise<void>;
  /** For the exec gate: the executables an entity's profile allows, when it enforces in prevent mode. */
  execPolicy(entity: Entity): ExecPolicy | undefined;
  /** Re-reads a profile from the store (after `nomine profile approve|relearn|set-mode` changed it). */
  reload(profileId: string): Promise<void>;
  /**
   * Takes a change made elsewhere (the console's fleet profile) into a profile: into the live copy when the engine
   * has it, so nothing learned meanwhile is lost, and saved at once; else into the store. `update` gets the profile
   * as it stands (undefined when there is none) and returns undefined when there is nothing to change.
   */
  applyRemote(profileId: string, update: (current: Profile | undefined) => { profile: Profile; change: ProfileChange } | undefined): Promise<void>;
  /** Writes pending learned changes and phase checks; called on a timer and at shutdown. */
  tick(): Promise<void>;
  profiles(): Profile[];
  stats(): ProfileEngineStats;
}

interface Tracked {
  profile: Profile;
  /** The stored revision this copy started from, for the store's optimistic update. */
  stored: Profile | undefined;
  dirty: ProfileChange | undefined;
  /** Changed in a way not worth a history entry (the CPU envelope). */
  quietChange?: boolean;
}

export function createProfileEngine(options: ProfileEngineOptions): ProfileEngine {
  const byProfileId = new Map<string, Tracked>();
  const profileOfEntity = new Map<string, string>();
  const cpuByEntity = new Map<string, SustainedCpu>();
  const poisoned = new Set<string>();
  /** Executables a process added to its profile by running, so they can be forgotten if it turns out malicious. */
  const taughtBy = new Map<string, string>();

  function forget(tracked: Tracked, exe: string): void {
    const processes = tracked.profile.allow.processes.filter((p) => !(p.exe === exe && p.source === 'learned'));
    if (processes.length === tracked.profile.allow.processes.length) return;
    tracked.profile = { ...tracked.profile, allow: { ...tracked.profile.allow, processes }, revision: tracked.profile.revision + 1 };
    tracked.dirty = { kind: 'learned', detail: `forgot ${exe}: the process that ran it turned out malicious` };
    options.log(`profile ${tracked.profile.id}: forgot ${exe}, whose process turned out malicious`);
  }
  const loading = new Map<string, Promise<Tracked>>();
  /** The gate's view of a process list, built once per list (learning replaces the list, never edits it). */
  const exeSets = new WeakMap<Profile['allow']['processes'], ExecPolicy>();
  const observedSince = options.observedSince ?? (() => 0);
  const stats: ProfileEngineStats = { profiles: 0, learning: 0, enforcing: 0, deviations: 0, actions: {}, storeErrors: 0 };

  async function save(tracked: Tracked, change: ProfileChange | undefined): Promise<void> {
    const now = options.now();
    // Events keep coming while the store writes: what is stored is this version, and only it is clean.
    const saving = tracked.profile;
    try {
      if (tracked.stored) await options.store.update(saving, tracked.stored, now, change);
      else await options.store.create(saving, now);
      tracked.stored = saving;
      if (tracked.profile === saving) {
        tracked.dirty = undefined;
        tracked.quietChange = false;
      }
    } catch (error) {
      // Someone else (the CLI) changed it: their word wins for mode and phase; keep what we learned meanwhile.
      stats.storeErrors += 1;
      const fresh = await options.store.load(tracked.profile.id).catch(() => undefined);
      if (fresh) {
        const modeChanged = fresh.mode !== tracked.profile.mode;
        tracked.stored = fresh;
        tracked.profile = { ...tracked.profile, mode: fresh.mode, phase: fresh.phase, revision: fresh.revision, ...(fresh.enforcingSince !== undefined ? { enforcingSince: fresh.enforcingSince } : {}) };
        tracked.dirty = change;
        if (modeChanged) {
          syncKernel(tracked.profile);
          options.log(`profile ${fresh.id} changed in the store: mode ${fresh.mode}, ${fresh.phase}`);
        }
      } else {
        options.log(`could not save profile ${tracked.profile.id}: ${(error as Error).message}`);
      }
    }
  }

  async function profileFor(entity: Entity): Promise<Tracked> {
    const known = byProfileId.get(profileOfEntity.get(entity.id) ?? '');
    if (known) return known;
    const key = workloadKeyFor(entity);
    const id = profileIdFor(key);
    profileOfEntity.set(entity.id, id);
    const tracked = byProfileId.get(id) ?? (await loadOrCreate(entity, id, key));
    options.kernelEnforcement?.(entity, tracked.profile.mode);
    return tracked;
  }

  /** Tells the kernel side the mode of every running entity of a profile whose mode changed. */
  function syncKernel(profile: Profile): void {
    if (!options.kernelEnforcement) return;
    for (const [entityId, profileId] of profileOfEntity) {
      if (profileId !== profile.id) continue;
      const entity = options.registry.byId(entityId);
      if (entity && !options.registry.isStopped(entityId)) options.kernelEnforcement(entity, profile.mode);
      else profileOfEntity.delete(entityId);
    }
  }

  async function loadOrCreate(entity: Entity, id: string, key: ReturnType<typeof workloadKeyFor>): Promise<Tracked> {
    let pending = loading.get(id);
    if (!pending) {
      pending = (async () => {
        const stored = await options.store.load(id);
        let tracked: Tracked;
        if (stored) tracked = { profile: stored, stored, dirty: undefined };
        else {
          // A new image of a known workload relearns, in the mode the user chose for the workload.
          const previous = await options.store.latestForWorkload(workloadFor(entity)).catch(() => undefined);
          const mode = previous?.mode ?? (entity.id === 'host' ? options.hostMode : options.defaultMode);
          tracked = { profile: createProfile(entity, options.now(), mode), stored: undefined, dirty: undefined };
          await save(tracked, { kind: 'created', detail: previous ? `image changed from ${previous.key.imageDigest.slice(0, 19)}: relearning` : 'first seen' });
          options.log(`profile ${id} for ${key.workload} (${entity.image ?? key.imageDigest}): learning${previous ? ' again: the image changed' : ''}, mode ${mode}`);
        }
        byProfileId.set(id, tracked);
        return tracked;
      })().finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  }

  function targetOf(event: RuntimeEvent, entity: Entity): ActionTarget {
    return { entityId: entity.id, entityName: entity.name, runtime: entity.runtime, pid: event.pid, ...(event.mntns ?? entity.mntns ? { mntns: (event.mntns ?? entity.mntns)! } : {}), ...(entity.pid ? { initPid: entity.pid } : {}) };
  }

  async function act(mode: EnforcementMode, event: RuntimeEvent, entity: Entity): Promise<ActionOutcome> {
    if (event.type === 'cpu-sample' || event.type === 'syscalls' || mode === 'alert' || mode === 'learn') {
      const why = mode === 'learn' || mode === 'alert' ? `mode ${mode}: alert only` : 'no single process to act on';
      return { taken: 'none', reason: mode === 'stop' && event.type === 'cpu-sample' ? 'mode stop: CPU alerts do not stop containers on their own' : why, tookMs: 0 };
    }
    if (event.type === 'exec' && event.killedAtExec !== undefined) {
      stats.actions.killed = (stats.actions.killed ?? 0) + 1;
      return { taken: 'killed', reason: `process ${event.pid} was killed as its exec arrived, ${Math.max(0, event.killedAtExec - event.at)} ms after it (the exec gate)`, tookMs: 0 };
    }
    // The eBPF sensor already killed a connect to a stratum port in the kernel, before it could say anything.
    if (event.type === 'connect' && (event as { killedInKernel?: boolean }).killedInKernel) {
      stats.actions.killed = (stats.actions.killed ?? 0) + 1;
      return { taken: 'killed', reason: `process ${event.pid} was killed in the kernel as it connected (eBPF, before any data was sent)`, tookMs: 0 };
    }
    const outcome = await (mode === 'stop' ? options.actuators.stop : options.actuators.kill).apply(targetOf(event, entity));
    stats.actions[outcome.taken] = (stats.actions[outcome.taken] ?? 0) + 1;
    return outcome;
  }

  async function raise(tracked: Tracked, entity: Entity, event: RuntimeEvent, deviation: Deviation): Promise<void> {
    stats.deviations += 1;
    const { profile } = tracked;
    const outcome = await act(profile.mode, event, entity);
    const actionText = outcome.taken === 'none' ? '' : `; ${outcome.reason}`;
    options.alerts.submit({
      at: event.at,
      dedupeKey: deviation.dedupeKey,
      rule: deviation.rule,
      severity: deviation.severity,
      message: `${profile.key.workload} (${entity.runtime === 'host' ? 'host' : `container ${entity.name}`}) ${deviation.summary}${actionText}.`,
      entity: { id: entity.id, name: entity.name },
      workload: profile.key.workload,
      profileId: profile.id,
      ...(entity.image ? { image: entity.image } : {}),
      imageDigest: profile.key.imageDigest,
      seen: deviation.seen,
      allowed: deviation.allowed,
      mode: profile.mode,
      phase: profile.phase,
      action: { taken: outcome.taken, reason: outcome.reason },
    });
  }

  function poisonKey(entityId: string, pid: number): string {
    return `${entityId}:${pid}`;
  }

  return {
    async handle(event) {
      const entity = options.registry.byId(event.entityId);
      if (!entity) return;
      const tracked = await profileFor(entity);
      const now = options.now();
      const advanced = nextObservedPhase(tracked.profile, now, options.settings, observedSince());
      if (advanced !== tracked.profile) {
        tracked.profile = advanced;
        options.log(`profile ${advanced.id} (${advanced.key.workload}) is now ${advanced.phase}${advanced.phase === 'enforcing' ? `, mode ${advanced.mode}` : ''}`);
        await save(tracked, { kind: 'phase-changed', detail: `${advanced.phase} after ${Math.round((now - advanced.learningStartedAt) / 1000)} s` });
      }
      if (event.type === 'exit') {
        poisoned.delete(poisonKey(entity.id, event.pid));
        taughtBy.delete(poisonKey(entity.id, event.pid));
        return;
      }
      const facts: JudgeFacts = {};
      const cpu = cpuByEntity.get(entity.id);
      if (cpu) facts.cpu = cpu;
      if (event.type === 'exec') facts.exeOrigin = await options.origins.origin(event.pid, event.exe, event.mntns ?? entity.mntns);

      let judgement = judge(tracked.profile, event, facts, options.pools);
      if (judgement.cpu) cpuByEntity.set(entity.id, judgement.cpu);
      if (!judgement.allowed) {
        if (judgement.deviation.onItsFace || isEnforcing(tracked.profile)) await raise(tracked, entity, event, judgement.deviation);
        if (judgement.deviation.onItsFace && event.type === 'exec') remember(poisonKey(entity.id, event.pid));
      }
      // The scanner's look at the executable is slower; it comes after any action and decides what may be learned.
      if (event.type === 'exec') {
        const verdict = await options.executables.judge(event.pid, event.sha256, event.exe, entity.runtime === 'host' ? undefined : entity.pid);
        if (verdict && !event.sha256) event.sha256 = verdict.sha256;
        if (verdict && verdict.verdict !== 'clean') {
          facts.minerVerdict = { rule: verdict.reasons[0]?.split(':')[0] ?? 'scan', summary: verdict.reasons.join('; ') };
          const withVerdict = judge(tracked.profile, event, facts, options.pools);
          if (!withVerdict.allowed && judgement.allowed) await raise(tracked, entity, event, withVerdict.deviation);
          remember(poisonKey(entity.id, event.pid));
          judgement = withVerdict;
        }
      }
      if (!judgement.allowed && judgement.deviation.onItsFace && event.type !== 'exec') {
        // A process that turned out malicious after its exec (it dialled a pool) must not stay in the profile
        // through the executable it brought in: forget what it alone taught.
        remember(poisonKey(entity.id, event.pid));
        const taught = taughtBy.get(poisonKey(entity.id, event.pid));
        if (taught) forget(tracked, taught);
      }
      if (poisoned.has(poisonKey(entity.id, event.pid))) return;
      const before = event.type === 'exec' ? tracked.profile.allow.processes.length : 0;
      const learned = learn(tracked.profile, event, now, poisoningVerdict(event, facts, options.pools));
      if (event.type === 'exec' && learned.profile.allow.processes.length > before) {
        if (taughtBy.size >= maxPoisonedProcesses) taughtBy.delete(taughtBy.keys().next().value!);
        taughtBy.set(poisonKey(entity.id, event.pid), event.exe);
      }
      if (learned.profile !== tracked.profile) {
        tracked.profile = learned.profile;
        if (learned.changed) tracked.dirty = { kind: 'learned', detail: `${event.type}${event.type === 'exec' ? ` ${event.exe}` : event.type === 'connect' ? ` ${event.address}:${event.port}` : event.type === 'file-write' ? ` ${event.path}` : ''}` };
        // The CPU envelope moves with every sample: saved with the next write, without a history entry of its own.
        else tracked.quietChange = true;
      }

      function remember(key: string): void {
        if (poisoned.size >= maxPoisonedProcesses) poisoned.delete(poisoned.values().next().value!);
        poisoned.add(key);
      }
    },
    execPolicy(entity) {
      const tracked = byProfileId.get(profileOfEntity.get(entity.id) ?? '');
      if (!tracked || tracked.profile.phase !== 'enforcing' || tracked.profile.mode !== 'prevent') return undefined;
      const processes = tracked.profile.allow.processes;
      let policy = exeSets.get(processes);
      if (!policy) exeSets.set(processes, (policy = { allowedExes: new Set(processes.map((entry) => entry.exe)) }));
      return policy;
    },
    async applyRemote(profileId, update) {
      const tracked = byProfileId.get(profileId) ?? (await loading.get(profileId)?.catch(() => undefined));
      if (tracked) {
        // A save racing this one (the timer's) makes this one lose the compare-and-swap, and the loser keeps the
        // stored mode and phase: apply the change again on top, so the console's word is not lost.
        for (let attempt = 1; attempt <= 3; attempt++) {
          const outcome = update(tracked.profile);
          if (!outcome) return;
          const modeChanged = outcome.profile.mode !== tracked.profile.mode;
          tracked.profile = outcome.profile;
          await save(tracked, outcome.change);
          if (modeChanged) syncKernel(tracked.profile);
          if (tracked.stored === outcome.profile) return;
        }
        return;
      }
      for (let attempt = 1; ; attempt++) {
        const stored = await options.store.load(profileId);
        const outcome = update(stored);
        if (!outcome) return;
        try {
          if (stored) await options.store.update(outcome.profile, stored, options.now(), outcome.change);
          else await options.store.create(outcome.profile, options.now());
          return;
        } catch (error) {
          // The engine (a workload that just started) or the CLI wrote it meanwhile: read it again.
          if (!(error instanceof NomineError && error.code === 'conflict') || attempt >= 5) throw error;
        }
      }
    },
    async reload(profileId) {
      const tracked = byProfileId.get(profileId);
      const fresh = await options.store.load(profileId);
      if (!fresh) byProfileId.delete(profileId);
      else if (tracked) {
        tracked.profile = fresh;
        tracked.stored = fresh;
        tracked.dirty = undefined;
        syncKernel(fresh);
      }
    },
    async tick() {
      const now = options.now();
      // One query for every revision; only a profile changed elsewhere is read in full.
      const revisions = await options.store.revisions().catch(() => undefined);
      for (const tracked of byProfileId.values()) {
        const advanced = nextObservedPhase(tracked.profile, now, options.settings, observedSince());
        if (advanced !== tracked.profile) {
          tracked.profile = advanced;
          options.log(`profile ${advanced.id} (${advanced.key.workload}) is now ${advanced.phase}, mode ${advanced.mode}`);
          await save(tracked, { kind: 'phase-changed', detail: `${advanced.phase} after ${Math.round((now - advanced.learningStartedAt) / 1000)} s` });
        } else if (tracked.dirty || tracked.quietChange) await save(tracked, tracked.dirty);
        // Pick up changes the CLI made (approve, relearn, set-mode) while nothing is pending here. A save just made
        // needs no check: its compare-and-swap already met any such change (and took it, see save()).
        else if ((revisions?.get(tracked.profile.id) ?? tracked.profile.revision) !== tracked.profile.revision) {
          const fresh = await options.store.load(tracked.profile.id).catch(() => undefined);
          if (fresh && fresh.revision !== tracked.profile.revision) {
            const modeChanged = fresh.mode !== tracked.profile.mode;
            tracked.profile = fresh;
            tracked.stored = fresh;
            if (modeChanged) syncKernel(fresh);
            options.log(`profile ${fresh.id} changed in the store: mode ${fresh.mode}, ${fresh.phase}`);
          }
        }
      }
    },
    profiles: () => [...byProfileId.values()].map((tracked) => tracked.profile),
    stats() {
      const profiles = [...byProfileId.values()].map((tracked) => tracked.profile);
      return { ...stats, profiles: profiles.length, learning: profiles.filter((p) => p.phase === 'learning').length, enforcing: profiles.filter((p) => p.phase === 'enforcing').length };
    },
  };
}
