/**
 * A fake Kubernetes API server for `nomine audit k8s --cluster` tests: HTTPS on 127.0.0.1 with a self-signed
 * certificate, bearer-token auth, and the documented list endpoints of the six workload resources, cluster-wide
 * and namespaced (/api/v1/pods, /api/v1/namespaces/NS/pods, /apis/apps/v1/deployments, …). Answers have the real
 * shapes: `kind: PodList`, `apiVersion`, `metadata.resourceVersion`, `metadata.continue` when `limit` cuts the list,
 * items without their own kind/apiVersion (as the server sends them), a few server defaults on pod specs, and
 * `Status` objects for 401, 403 (reason Forbidden, the message the real server writes), 404 and 410. It also
 * writes a kubeconfig pointing at itself, and records every request (path, query, Authorization header).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates } from './probe-certificates.ts';

export interface FakeResource {
  kind: string;
  plural: string;
  group: string; // '' for the core group
  version: string;
}

export const fakeResources: readonly FakeResource[] = [
  { kind: 'Pod', plural: 'pods', group: '', version: 'v1' },
  { kind: 'Deployment', plural: 'deployments', group: 'apps', version: 'v1' },
  { kind: 'StatefulSet', plural: 'statefulsets', group: 'apps', version: 'v1' },
  { kind: 'DaemonSet', plural: 'daemonsets', group: 'apps', version: 'v1' },
  { kind: 'Job', plural: 'jobs', group: 'batch', version: 'v1' },
  { kind: 'CronJob', plural: 'cronjobs', group: 'batch', version: 'v1' },
];

export interface FakeRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

export interface FakeKubeApiServer {
  url: string;
  token: string;
  /** A kubeconfig (context `fake`) with the server's CA and the bearer token. */
  kubeconfigPath: string;
  requests: FakeRequest[];
  /** Objects by plural; add or replace before a run. */
  objects: Map<string, Record<string, unknown>[]>;
  /** Plurals answered with 403 Forbidden. */
  forbidden: Set<string>;
  /** Plurals answered with a body that is not JSON. */
  malformed: Set<string>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** What the API server adds to a pod spec on create, so the audit sees what a real cluster returns. */
function defaultPodSpec(spec: Json | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  for (const list of ['containers', 'initContainers']) {
    for (const container of (spec[list] as Json[] | undefined) ?? []) {
      container.imagePullPolicy ??= 'IfNotPresent';
      container.terminationMessagePath ??= '/dev/termination-log';
      container.terminationMessagePolicy ??= 'File';
      container.resources ??= {};
    }
  }
}

let resourceVersion = 1000;

/** An object as stored: metadata filled in, defaults applied, kind and apiVersion kept (removed in lists). */
export function stored(object: Json): Json {
  const copy = clone(object);
  const metadata = (copy.metadata ??= {}) as Json;
  metadata.namespace ??= 'default';
  metadata.uid ??= `00000000-0000-4000-8000-${String(resourceVersion).padStart(12, '0')}`;
  metadata.resourceVersion = String((resourceVersion += 1));
  metadata.creationTimestamp ??= '2026-01-01T00:00:00Z';
  const kind = copy.kind;
  const spec = copy.spec as Json | undefined;
  if (kind === 'Pod') defaultPodSpec(spec);
  else if (kind === 'CronJob') defaultPodSpec(((((spec?.jobTemplate as Json | undefined)?.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined));
  else defaultPodSpec(((spec?.template as Json | undefined)?.spec as Json | undefined));
  copy.status ??= {};
  return copy;
}

function status(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export async function startFakeKubeApiServer(options: { token?: string } = {}): Promise<FakeKubeApiServer> {
  const token = options.token ?? 'nomine-test-token-6f1c';
  const { selfSigned } = makeTestCertificates();
  const requests: FakeRequest[] = [];
  const objects = new Map<string, Json[]>(fakeResources.map((resource) => [resource.plural, []]));
  const forbidden = new Set<string>();
  const malformed = new Set<string>();
  const continues = new Map<string, { plural: string; namespace: string | undefined; offset: number }>();

  const server: Server = createServer({ key: selfSigned.key, cert: selfSigned.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const send = (code: number, body: Json | string) => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const match = /^\/(?:api\/(v1)|apis\/([a-z.]+)\/(v1))(?:\/namespaces\/([a-z0-9-]+))?\/([a-z]+)$/.exec(url.pathname);
    const resource = match ? fakeResources.find((r) => r.plural === match[5] && r.group === (match[2] ?? '') && r.version === (match[1] ?? match[3])) : undefined;
    if (!match || !resource || req.method !== 'GET') return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const namespace = match[4];
    const groupResource = resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
    if (forbidden.has(resource.plural)) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      return send(403, status(403, 'Forbidden', `${groupResource} is forbidden: User "system:serviceaccount:nomine:auditor" cannot list resource "${resource.plural}" in API group "${resource.group}" ${scope}`, { kind: resource.plural, ...(resource.group ? { group: resource.group } : {}) }));
    }
    if (malformed.has(resource.plural)) return send(200, '{"kind": "' + resource.kind + 'List", "items": [');
    const all = (objects.get(resource.plural) ?? []).filter((object) => !namespace || (object.metadata as Json).namespace === namespace);
    let offset = 0;
    const continueToken = url.searchParams.get('continue');
    if (continueToken) {
      const saved = continues.get(continueToken);
      if (!saved || saved.plural !== resource.plural || saved.namespace !== namespace) return send(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      offset = saved.offset;
    }
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const end = limit > 0 ? Math.min(all.length, offset + limit) : all.length;
    const metadata: Json = { resourceVersion: String(resourceVersion) };
    if (end < all.length) {
      const next = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: resourceVersion, start: String(end) })).toString('base64');
      continues.set(next, { plural: resource.plural, namespace, offset: end });
      metadata.continue = next;
      metadata.remainingItemCount = all.length - end;
    }
    const items = all.slice(offset, end).map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item);
    send(200, { kind: `${resource.kind}List`, apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version, metadata, items });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nomine-fake-kube-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigText(url, selfSigned.cert, token));
  return {
    url,
    token,
    kubeconfigPath,
    requests,
    objects,
    forbidden,
    malformed,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function kubeconfigText(server: string, caPem: string, token: string, context = 'fake'): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: fake-cluster
    cluster:
      server: ${server}
      certificate-authority-data: ${Buffer.from(caPem).toString('base64')}
users:
  - name: auditor
    user:
      token: ${token}
contexts:
  - name: ${context}
    context: { cluster: fake-cluster, user: auditor }
current-context: ${context}
`;
}

/** Puts objects (kind decides the resource) into the server, as stored by a real one. */
export function addObjects(server: FakeKubeApiServer, ...list: Json[]): void {
  for (const object of list) {
    const resource = fakeResources.find((r) => r.kind === object.kind);
    if (!resource) throw new Error(`the fake API server does not serve kind ${String(object.kind)}`);
    server.objects.get(resource.plural)!.push(stored(object));
  }
}
