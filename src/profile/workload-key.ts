/**
 * Workload keys: which profile an entity shares with its replicas. The key is the image digest plus the owning
 * workload, so ten replicas of one Deployment (or compose service, or `web-1`…`web-9`) learn one model ten times
 * faster, a new replica is protected from its first second, and a new image starts a new profile.
 */
import { createHash } from 'node:crypto';
import type { Entity } from '../agent/entity.ts';
import type { WorkloadKey } from './profile.ts';

const composeProject = 'com.docker.compose.project';
const composeService = 'com.docker.compose.service';
/** Selector label nomine puts on workloads that carry no app label of their own. */
export const workloadLabel = 'nomine.io/workload';

// Kubernetes names random suffixes from this alphabet (k8s.io/apimachinery rand.SafeEncodeString): no vowels,
// no 0/1/3 — so a suffix like `web-x2k4z` is random, and a real word like `nginx` is not.
const k8sRandomSuffix = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const k8sTemplateHash = /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/;

/** A replica suffix of a container name: `-1`, `_2`, `.3` (compose, swarm), a hex or swarm task id (`web-7f9c0a1b`). */
function isReplicaSuffix(token: string): boolean {
  if (/^[0-9]+$/.test(token)) return true;
  if (!/[0-9]/.test(token)) return false;
  // A hex id, or a swarm task id (25 lower-case base-36 characters).
  return /^[0-9a-f]{6,64}$/.test(token) || /^[0-9a-z]{20,64}$/.test(token);
}

/** `web-1`, `web_2`, `web.3`, `web-7f9c0a1b`, `svc.1.x8f2…` (swarm task) → `web`/`svc`. Never cuts a name to nothing. */
export function stripReplicaSuffix(name: string): string {
  let base = name.replace(/^\/+/, '');
  for (let round = 0; round < 3; round++) {
    const match = /^(.+?)[-_.]([A-Za-z0-9]+)$/.exec(base);
    if (!match || !isReplicaSuffix(match[2]!.toLowerCase())) break;
    base = match[1]!;
  }
  return base;
}

/** `kv-7d9f8c6b5d-x2k4z` (Deployment), `kv-0` (StatefulSet), `agent-x2k4z` (DaemonSet) → `kv`/`agent`. */
export function stripPodSuffix(pod: string): string {
  let parts = pod.split('-');
  if (parts.length > 1 && /^[0-9]+$/.test(parts.at(-1)!)) return parts.slice(0, -1).join('-');
  if (parts.length > 1 && k8sRandomSuffix.test(parts.at(-1)!)) {
    parts = parts.slice(0, -1);
    // CronJob pods: `report-28391234-x2k4z` (scheduled minute); Deployment pods: the pod-template hash.
    if (parts.length > 1 && (/^[0-9]{6,}$/.test(parts.at(-1)!) || k8sTemplateHash.test(parts.at(-1)!))) parts = parts.slice(0, -1);
  }
  return parts.join('-');
}

function imageIdentity(entity: Entity): string {
  if (entity.imageDigest) return entity.imageDigest;
  // Without a digest the reference is the best identity there is; it still separates different images.
  if (entity.image) return `image:${entity.image}`;
  return 'image:none';
}

export function workloadFor(entity: Entity): string {
  if (entity.runtime === 'host') return 'host';
  const k8s = entity.kubernetes;
  if (k8s?.workload) return `k8s:${k8s.namespace}/${k8s.workload.kind}/${k8s.workload.name}`;
  if (k8s) return `k8s:${k8s.namespace}/Pod/${stripPodSuffix(k8s.pod)}`;
  const project = entity.labels[composeProject];
  const service = entity.labels[composeService] ?? entity.composeService;
  if (project && service) return `compose:${project}/${service}`;
  return `container:${stripReplicaSuffix(entity.name)}`;
}

export function workloadKeyFor(entity: Entity): WorkloadKey {
  return { imageDigest: imageIdentity(entity), workload: workloadFor(entity) };
}

/** `wl-` plus 12 hex digits of SHA-256 over the key: stable across restarts and nodes, and a valid name fragment. */
export function profileIdFor(key: WorkloadKey): string {
  const hash = createHash('sha256').update(`${key.imageDigest}\n${key.workload}`).digest('hex');
  return `wl-${hash.slice(0, 12)}`;
}

/** A Kubernetes label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '') || 'workload';
}

/**
 * Labels that select the workload's pods or containers, for NetworkPolicy and KubeArmor selectors. Pod labels are
 * not on containers (only io.kubernetes.* are), so the app labels an image or a compose file set are used when
 * present, then the compose labels, and otherwise a `nomine.io/workload` label the user is asked to add.
 */
export function selectorFor(entity: Entity): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app']) {
    const value = entity.labels[key];
    if (value) selector[key] = value;
  }
  if (Object.keys(selector).length > 0) return selector;
  const project = entity.labels[composeProject];
  const service = entity.labels[composeService] ?? entity.composeService;
  if (project && service) return { [composeProject]: project, [composeService]: service };
  const workload = workloadFor(entity);
  return { [workloadLabel]: labelValue(workload.slice(workload.lastIndexOf('/') + 1).replace(/^container:/, '')) };
}
