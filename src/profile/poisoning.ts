/**
 * Poisoning: behaviour that is malicious on its face, whatever a profile says. It is never learned (so a miner
 * running from a container's first second — the tampered-image case — cannot teach the profile that mining is
 * normal) and it alerts in every phase, including learning. The list is short on purpose: each entry must be
 * something no benign workload does, or it would alert on benign workloads before they had a chance to be learned.
 */
import type { RuntimeEvent } from '../agent/event.ts';
import type { AlertRule } from '../alerts/alert.ts';
import type { Severity } from '../core/severity.ts';
import { formatEndpoint, ruleSeverity } from './deviation.ts';
import { matchMiningPool, type MiningPools } from './mining-pools.ts';

/**
 * Where the executable of an exec came from, as the agent tells from the image's layers and the container's
 * writable layer: `image` (a file of the image), `written` (created or modified after the container started —
 * downloaded, unpacked, compiled, or otherwise in the writable layer), `memfd` (run from memory), `unknown`.
 */
export type ExeOrigin = 'image' | 'written' | 'memfd' | 'unknown';

/** Facts about an event that the event itself does not carry; gathered by the agent, judged here. */
export interface BehaviourFacts {
  /** The scan's verdict on the executable, when `nomine scan`'s rules flag it as a miner. */
  minerVerdict?: { rule: string; summary: string };
  exeOrigin?: ExeOrigin;
}

export interface PoisoningVerdict {
  rule: AlertRule;
  severity: Severity;
  /** `ran /tmp/xmrig, which is not part of the image: …`. */
  summary: string;
  /** What it is about (the executable, the destination): part of the dedupe key. */
  subject: string;
  /** What no profile allows, for the alert's `allowed`. */
  allowed: string;
  /**
   * A user can allow this one case for this workload with an approved allowance: a stratum port that is really a
   * service of theirs (approved egress), or an executable the workload legitimately installs at start (approved
   * process with that digest). Miners, deleted executables and known pool networks are never overridable.
   */
  overridable?: true;
}

function verdict(rule: AlertRule, summary: string, subject: string, allowed: string, overridable = false): PoisoningVerdict {
  return { rule, severity: ruleSeverity[rule], summary, subject, allowed, ...(overridable ? { overridable: true as const } : {}) };
}

function isMemfdPath(exe: string): boolean {
  return exe.startsWith('/memfd:') || exe.startsWith('memfd:');
}

export function poisoningVerdict(event: RuntimeEvent, facts: BehaviourFacts, pools: MiningPools): PoisoningVerdict | undefined {
  if (event.type === 'exec') {
    // The scan's miner rules (hashes, YARA, stratum strings) already decided this file is a miner.
    if (facts.minerVerdict) {
      return verdict('miner-executable', `ran ${event.exe}, which nomine's scan identifies as a miner: ${facts.minerVerdict.summary} (${facts.minerVerdict.rule})`,
        event.exe, 'no miner, whatever the profile');
    }
    // Drift, as in Falco's "Drop and execute new binary in container" rule: containers are immutable, so an
    // executable that was not in the image was dropped there — the way a miner arrives through an exploited app.
    // A memfd executable is the fileless form of the same thing.
    if (facts.exeOrigin === 'memfd' || isMemfdPath(event.exe)) {
      return verdict('drift', `ran ${event.exe} from memory (memfd), which is not part of the image: fileless execution is how droppers hide a payload`,
        event.exe, 'only executables that are part of the image');
    }
    if (facts.exeOrigin === 'written') {
      return verdict('drift', `ran ${event.exe}, which is not part of the image: it was written into the container after it started (drift)`,
        event.exe, 'only executables that are part of the image, unless approved for this workload', true);
    }
    // A running process whose file is gone deleted itself or was deleted by its dropper, to hide from disk scans.
    if (event.exeDeleted) {
      return verdict('deleted-executable', `ran ${event.exe}, whose file was deleted while it ran: a program that hides from disk scans`,
        event.exe, 'only executables that stay on disk');
    }
    return undefined;
  }
  if (event.type === 'connect') {
    const match = matchMiningPool(pools, event.address, event.port);
    if (!match) return undefined;
    const endpoint = formatEndpoint(event.address, event.port, event.protocol);
    if (match.kind === 'address') {
      const name = match.pool.name ? ` (${match.pool.name})` : '';
      return verdict('mining-pool', `connected to ${endpoint}, in the known mining pool network ${match.pool.address}${name}`,
        endpoint, 'no connection to a mining pool');
    }
    // Stratum ports are what pools listen on; a connection there is a miner logging in or fetching work.
    return verdict('mining-pool', `connected to ${endpoint}, a port mining pools use for stratum`, endpoint,
      'no connection to a stratum port unless approved for this workload', true);
  }
  return undefined;
}
