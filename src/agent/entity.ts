/**
 * Entities: the things the agent watches. Every container on the node (from the Docker Engine or containerd's
 * runtime state), and `host` for processes that belong to no container. Kubernetes metadata comes from the
 * io.kubernetes.* labels (dockershim, cri-dockerd) and io.kubernetes.cri.* annotations (containerd CRI).
 */
export type EntityRuntime = 'docker' | 'containerd' | 'host';

export interface KubernetesMetadata {
  namespace: string;
  pod: string;
  container?: string;
  /** The owning workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) when it can be derived. */
  workload?: { kind: string; name: string };
}

export interface Entity {
  /** Full container id (64 hex for Docker), or `host`. */
  id: string;
  name: string;
  runtime: EntityRuntime;
  /** Image reference as the runtime recorded it (`kv-store:1.0`). */
  image?: string;
  /** Content digest of the image (`sha256:…`): the image config digest Docker calls the image id, or the manifest digest. */
  imageDigest?: string;
  /** Milliseconds since the epoch. */
  startedAt?: number;
  /** Init process of the container on the host. */
  pid?: number;
  /** Namespace inodes of the init process: events are mapped to entities by these. */
  mntns?: number;
  pidns?: number;
  kubernetes?: KubernetesMetadata;
  /** Compose service when the container was started by docker compose (com.docker.compose.service). */
  composeService?: string;
  labels: Record<string, string>;
  /** containerd namespace (moby, k8s.io, default) for containerd entities. */
  namespace?: string;
}

export const hostEntityId = 'host';

/** A change in the set of entities, as the runtimes see it. */
export type EntityChange = { type: 'start'; entity: Entity } | { type: 'stop'; entityId: string; at: number };
