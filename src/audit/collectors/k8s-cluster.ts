/**
 * A live cluster: workloads read through the Kubernetes API (Pods, Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs; all namespaces or one), turned into the same entities as the manifest collector so the same checks
 * give the same results. @kubernetes/client-node's KubeConfig loads the kubeconfig (--kubeconfig, $KUBECONFIG,
 * ~/.kube/config) or the in-cluster service account and applies its credentials and TLS settings; the list
 * requests themselves are plain GETs whose JSON is used as the server sent it (the generated model classes drop
 * fields they do not know and rewrite types, and an audit must see what the server stores).
 *
 * Every list is paginated with `limit`/`continue` and bounded (objects per resource, bytes per page, time per
 * request). A refused, missing or malformed list is an error for that resource, and the others are still
 * audited; an API server that cannot be reached at all is reported once.
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { NomineError, toNomineError } from '../../core/errors.ts';
import { emptyCollection, type Collection } from '../audit-entity.ts';
import { controlPlaneComponents, workloadTemplatePaths } from './k8s-kinds.ts';
import { staticPodFacts } from './k8s-static-pod.ts';
import { workloadFacts } from './k8s-workload.ts';

export interface ClusterLimits {
  /** Objects asked for per page (`limit`). */
  pageSize: number;
  /** Objects audited per resource (all namespaces together); more is reported as limit-exceeded. */
  maxObjectsPerResource: number;
  /** Bytes of one page's body. */
  maxResponseBytes: number;
  /** One request, connect to last byte. */
  requestTimeoutMs: number;
}

export const defaultClusterLimits: ClusterLimits = { pageSize: 500, maxObjectsPerResource: 20_000, maxResponseBytes: 64 * 1024 * 1024, requestTimeoutMs: 30_000 };

export interface ClusterResource {
  kind: string;
  /** The resource name in URLs and in RBAC. */
  plural: string;
  apiVersion: string;
}

/** What is listed, in this order. */
export const clusterResources: readonly ClusterResource[] = [
  { kind: 'Pod', plural: 'pods', apiVersion: 'v1' },
  { kind: 'Deployment', plural: 'deployments', apiVersion: 'apps/v1' },
  { kind: 'StatefulSet', plural: 'statefulsets', apiVersion: 'apps/v1' },
  { kind: 'DaemonSet', plural: 'daemonsets', apiVersion: 'apps/v1' },
  { kind: 'Job', plural: 'jobs', apiVersion: 'batch/v1' },
  { kind: 'CronJob', plural: 'cronjobs', apiVersion: 'batch/v1' },
];

/** Pods run by these controllers are audited through the controller's template, once, not once per replica. */
const templatedOwners = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job']);

export interface ClusterResponse {
  status: number;
  body: string;
}

/** GET a path on the API server (`/api/v1/pods?limit=…`). Rejects only when there is no HTTP answer. */
export type ClusterTransport = (path: string) => Promise<ClusterResponse>;

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  limits?: Partial<ClusterLimits>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resourceName(resource: ClusterResource): string {
  const group = resource.apiVersion.includes('/') ? resource.apiVersion.split('/')[0] : '';
  return group ? `${resource.plural}.${group}` : resource.plural;
}

export function listPath(resource: ClusterResource, namespace?: string): string {
  const root = resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  return namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}` : `${root}/${resource.plural}`;
}

/** `cannot list deployments.apps in namespace shop: forbidden (…)`, from the API server's Status when it sent one. */
function refusal(resource: ClusterResource, namespace: string | undefined, response: ClusterResponse): { code: string; message: string } {
  let status: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(response.body);
    if (isRecord(parsed) && parsed.kind === 'Status') status = parsed;
  } catch {
    // not a Status: the HTTP code alone says it
  }
  const where = namespace ? `in namespace ${namespace}` : 'in all namespaces (cluster scope)';
  const code = response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : response.status === 404 ? 'not-found' : response.status === 410 ? 'conflict' : 'unreachable';
  const reason = typeof status?.reason === 'string' && status.reason ? status.reason : `HTTP ${response.status}`;
  const words: Record<string, string> = { unauthorized: 'unauthorized (the credentials were rejected)', forbidden: 'forbidden', 'not-found': 'not found (is this API served by the cluster?)', conflict: 'the list expired while paging (410 Gone): run again' };
  const detail = typeof status?.message === 'string' && status.message ? ` — server: ${status.message.slice(0, 300)}` : '';
  return { code, message: `cannot list ${resourceName(resource)} ${where}: ${words[code] ?? `${reason}`}${detail}` };
}

export interface ClusterTarget {
  /** The kubeconfig context (or `inCluster`), used in entity names. */
  context: string;
  /** The API server URL, for messages. */
  server: string;
  namespace?: string;
}

/**
 * Lists every resource through `transport` and classifies each object as the manifest collector does. Pure apart
 * from the transport, so tests can give it canned answers.
 */
export async function collectClusterWith(transport: ClusterTransport, target: ClusterTarget, limits: ClusterLimits = defaultClusterLimits): Promise<Collection> {
  const collection = emptyCollection();
  const prefix = `cluster ${target.context}`;
  for (const resource of clusterResources) {
    const errorName = `${prefix} ${target.namespace ? `${target.namespace}/` : ''}${resourceName(resource)}`;
    const fail = (code: string, message: string) => collection.errors.push({ target: 'k8s.workload', kind: 'endpoint', name: errorName, code, message });
    let token: string | undefined;
    let seen = 0;
    do {
      const query = new URLSearchParams({ limit: String(Math.max(1, Math.min(limits.pageSize, limits.maxObjectsPerResource - seen))) });
      if (token) query.set('continue', token);
      let response: ClusterResponse;
      try {
        response = await transport(`${listPath(resource, target.namespace)}?${query}`);
      } catch (error) {
        const failure = toNomineError(error);
        if (seen === 0 && collection.entities.length === 0 && collection.errors.length === 0 && resource === clusterResources[0]) {
          // Nothing has answered yet: the server is not there, and saying so six times helps no one.
          collection.errors.push({ target: 'k8s.workload', kind: 'endpoint', name: prefix, code: failure.code, message: `cannot reach the Kubernetes API server ${target.server}: ${failure.message}` });
          return collection;
        }
        fail(failure.code, `cannot list ${resourceName(resource)}: ${failure.message}`);
        break;
      }
      if (response.status < 200 || response.status > 299) {
        const { code, message } = refusal(resource, target.namespace, response);
        fail(code, message);
        break;
      }
      let list: unknown;
      try {
        list = JSON.parse(response.body);
      } catch {
        fail('invalid-input', `malformed answer listing ${resourceName(resource)}: not JSON (${JSON.stringify(response.body.slice(0, 80))})`);
        break;
      }
      if (!isRecord(list) || !Array.isArray(list.items) || (list.metadata !== undefined && !isRecord(list.metadata))) {
        fail('invalid-input', `malformed answer listing ${resourceName(resource)}: not a ${resource.kind}List (no items list)`);
        break;
      }
      for (const item of list.items) {
        if (seen >= limits.maxObjectsPerResource) break;
        seen += 1;
        addObject(collection, item, resource, prefix);
      }
      const next = isRecord(list.metadata) ? list.metadata.continue : undefined;
      token = typeof next === 'string' && next !== '' ? next : undefined;
      if (token && seen >= limits.maxObjectsPerResource) {
        fail('limit-exceeded', `more than ${limits.maxObjectsPerResource} ${resourceName(resource)}: only the first ${limits.maxObjectsPerResource} are audited`);
        break;
      }
    } while (token);
  }
  return collection;
}

function addObject(collection: Collection, item: unknown, resource: ClusterResource, prefix: string): void {
  if (!isRecord(item)) {
    collection.errors.push({ target: 'k8s.workload', kind: 'endpoint', name: `${prefix} ${resourceName(resource)}`, code: 'invalid-input', message: `malformed ${resource.kind} in the list: a ${Array.isArray(item) ? 'list' : typeof item}, not an object` });
    return;
  }
  // List items carry no kind or apiVersion of their own: the list says what they are.
  const value: Record<string, unknown> = { ...item, kind: typeof item.kind === 'string' && item.kind ? item.kind : resource.kind, apiVersion: typeof item.apiVersion === 'string' && item.apiVersion ? item.apiVersion : resource.apiVersion };
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const name = `${prefix} ${typeof metadata.namespace === 'string' ? metadata.namespace : '(cluster)'}/${resource.kind}/${typeof metadata.name === 'string' ? metadata.name : '(unnamed)'}`;
  if (value.kind === 'Pod') {
    const owner = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences.find((ref) => isRecord(ref) && ref.controller === true) : undefined;
    if (isRecord(owner) && typeof owner.kind === 'string' && templatedOwners.has(owner.kind)) {
      collection.skipped.push({ name, reason: `run by ${owner.kind} ${String(owner.name)}: audited through its controller's pod template` });
      return;
    }
    const staticPod = staticPodFacts(value);
    if (staticPod) {
      collection.entities.push({ target: controlPlaneComponents[staticPod.component], kind: 'manifest', name, facts: staticPod.facts });
      return;
    }
  }
  const templatePath = workloadTemplatePaths[resource.kind] ?? [];
  collection.entities.push({ target: 'k8s.workload', kind: 'manifest', name, facts: workloadFacts(value, templatePath).facts });
}

/** The kubeconfig (or service account) to use; throws a NomineError a person can act on. */
export function loadKubeConfig(options: Pick<ClusterOptions, 'kubeconfig' | 'context'>): KubeConfig {
  const config = new KubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new NomineError('invalid-input', `cannot load kubeconfig: ${(error as Error).message}`, options.kubeconfig ?? 'kubeconfig', { cause: error });
  }
  // loadFromDefault falls back to an unauthenticated http://localhost:8080 when it finds nothing.
  if (!options.kubeconfig && config.getCurrentContext() === 'loaded-context' && config.getCurrentCluster()?.server === 'http://localhost:8080') {
    throw new NomineError('invalid-input', 'no kubeconfig found: set $KUBECONFIG, give --kubeconfig FILE, or run inside a pod with a service account', 'audit k8s --cluster');
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      throw new NomineError('invalid-input', `no context ${JSON.stringify(options.context)} in the kubeconfig (has: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`, 'audit k8s --cluster');
    }
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()?.server) throw new NomineError('invalid-input', `kubeconfig context ${JSON.stringify(config.getCurrentContext())} names no cluster server`, 'audit k8s --cluster');
  return config;
}

/** GETs with the kubeconfig's credentials and TLS settings, bounded in time and size. */
export function kubeTransport(config: KubeConfig, limits: ClusterLimits): ClusterTransport {
  const server = (config.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  return async (path) => {
    const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, timeout: limits.requestTimeoutMs };
    await config.applyToHTTPSOptions(options); // credentials (token, client cert, exec plugin), CA, agent
    const url = new URL(server + path);
    const agent = options.agent;
    try {
      return await new Promise<ClusterResponse>((resolve, reject) => {
        const request = (url.protocol === 'http:' ? http : https).request(url, options, (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > limits.maxResponseBytes) {
              request.destroy(new NomineError('limit-exceeded', `answer larger than ${limits.maxResponseBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        });
        request.setTimeout(limits.requestTimeoutMs, () => request.destroy(new NomineError('timeout', `no answer within ${limits.requestTimeoutMs} ms`)));
        request.on('error', reject);
        request.end();
      });
    } finally {
      if (agent && typeof agent === 'object' && 'destroy' in agent) (agent as http.Agent).destroy();
    }
  };
}

/** `nomine audit k8s --cluster`: loads the kubeconfig, lists, classifies. */
export async function collectCluster(options: ClusterOptions = {}): Promise<Collection> {
  const limits = { ...defaultClusterLimits, ...options.limits };
  const config = loadKubeConfig(options);
  const target: ClusterTarget = { context: config.getCurrentContext(), server: config.getCurrentCluster()?.server ?? '', ...(options.namespace ? { namespace: options.namespace } : {}) };
  return collectClusterWith(kubeTransport(config, limits), target, limits);
}
