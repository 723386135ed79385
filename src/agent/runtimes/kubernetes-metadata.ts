/**
 * Kubernetes metadata of a container, from what the runtime recorded: the io.kubernetes.* labels dockershim and
 * cri-dockerd put on Docker containers, or the io.kubernetes.cri.* annotations containerd's CRI plugin puts in the
 * OCI spec. Neither records the owning workload, so it is derived from pod labels when a sandbox carries them and
 * otherwise from the shape of the pod name the controllers generate. Pure.
 */
import type { KubernetesMetadata } from '../entity.ts';

export type Workload = NonNullable<KubernetesMetadata['workload']>;

export const dockerLabels = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  /** `podsandbox` for the pause container, `container` for the others. */
  type: 'io.kubernetes.docker.type',
} as const;

export const criAnnotations = {
  /** `sandbox` for the pause container, `container` for the others. */
  containerType: 'io.kubernetes.cri.container-type',
  sandboxName: 'io.kubernetes.cri.sandbox-name',
  sandboxNamespace: 'io.kubernetes.cri.sandbox-namespace',
  containerName: 'io.kubernetes.cri.container-name',
  imageName: 'io.kubernetes.cri.image-name',
} as const;

/**
 * Characters of the suffixes Kubernetes generates (k8s.io/apimachinery rand.SafeEncodeString): no vowels, no 0, 1
 * or 3, so names never spell words. A pod-template-hash is a uint32 encoded in it (5 to 10 characters); the random
 * suffix of generateName is 5 of them.
 */
const safe = '[bcdfghjklmnpqrstvwxz2456789]';
/** `<cronjob>-<scheduled time in minutes>-<suffix>`: checked first, as a digits-only hash would pass for an RS hash. */
const cronJobPod = new RegExp(`^(.+)-(\\d{8,})-${safe}{5}$`);
const deploymentPod = new RegExp(`^(.+)-${safe}{5,10}-${safe}{5}$`);
// Ordinals stop at four digits: a five-digit one could as well be a generated suffix that happens to be all digits.
const statefulSetPod = /^(.+)-(0|[1-9]\d{0,3})$/;
const generatedPod = new RegExp(`^(.+)-${safe}{5}$`);
const cronJobName = /^(.+)-\d{8,}$/;

/** Pod labels that name the controller, as a sandbox container carries them (dockershim copies pod labels to it). */
const podLabels = {
  podTemplateHash: 'pod-template-hash',
  statefulSetPodName: 'statefulset.kubernetes.io/pod-name',
  controllerRevisionHash: 'controller-revision-hash',
  jobName: 'job-name',
  batchJobName: 'batch.kubernetes.io/job-name',
} as const;

/** The owning workload from the pod name alone; undefined for a name no controller would generate. */
export function workloadFromPodName(pod: string): Workload | undefined {
  let match = cronJobPod.exec(pod);
  if (match?.[1]) return { kind: 'CronJob', name: match[1] };
  match = deploymentPod.exec(pod);
  if (match?.[1]) return { kind: 'Deployment', name: match[1] };
  match = statefulSetPod.exec(pod);
  if (match?.[1]) return { kind: 'StatefulSet', name: match[1] };
  match = generatedPod.exec(pod);
  // A bare `<name>-<5>` is also a Job's or a bare ReplicaSet's pod; on a node the DaemonSet is by far the most common.
  if (match?.[1]) return { kind: 'DaemonSet', name: match[1] };
  return undefined;
}

/** The owning workload, preferring what pod labels record over the shape of the name. */
export function workloadOf(pod: string, labels: Readonly<Record<string, string>> = {}): Workload | undefined {
  const hash = labels[podLabels.podTemplateHash];
  if (hash) {
    const suffix = new RegExp(`-${escapeRegExp(hash)}-${safe}{5}$`).exec(pod);
    if (suffix) return { kind: 'Deployment', name: pod.slice(0, suffix.index) };
  }
  if (labels[podLabels.statefulSetPodName] === pod) {
    const match = statefulSetPod.exec(pod);
    if (match?.[1]) return { kind: 'StatefulSet', name: match[1] };
  }
  const job = labels[podLabels.batchJobName] ?? labels[podLabels.jobName];
  if (job) {
    const cron = cronJobName.exec(job);
    return cron?.[1] ? { kind: 'CronJob', name: cron[1] } : { kind: 'Job', name: job };
  }
  if (labels[podLabels.controllerRevisionHash]) {
    const match = generatedPod.exec(pod);
    if (match?.[1]) return { kind: 'DaemonSet', name: match[1] };
  }
  return workloadFromPodName(pod);
}

function metadata(namespace: string | undefined, pod: string | undefined, container: string | undefined, labels: Readonly<Record<string, string>>): KubernetesMetadata | undefined {
  if (!pod || !namespace) return undefined;
  const workload = workloadOf(pod, labels);
  return { namespace, pod, ...(container ? { container } : {}), ...(workload ? { workload } : {}) };
}

/** From Docker container labels (dockershim, cri-dockerd); undefined for a container Kubernetes did not start. */
export function kubernetesMetadataFromLabels(labels: Readonly<Record<string, string>>): KubernetesMetadata | undefined {
  const container = labels[dockerLabels.containerName];
  return metadata(labels[dockerLabels.podNamespace], labels[dockerLabels.podName], container === 'POD' ? undefined : container, labels);
}

/** From the annotations of a container's OCI spec (containerd CRI). */
export function kubernetesMetadataFromAnnotations(annotations: Readonly<Record<string, string>>): KubernetesMetadata | undefined {
  return metadata(annotations[criAnnotations.sandboxNamespace], annotations[criAnnotations.sandboxName], annotations[criAnnotations.containerName], annotations);
}

/** Whether labels or annotations mark a pod's sandbox (pause) container, which is not an entity of its own. */
export function isPodSandbox(labelsOrAnnotations: Readonly<Record<string, string>>): boolean {
  return labelsOrAnnotations[dockerLabels.type] === 'podsandbox' || labelsOrAnnotations[criAnnotations.containerType] === 'sandbox';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
