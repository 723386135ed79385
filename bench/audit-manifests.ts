/**
 * Kubernetes manifests for `npm run bench:audit`: N files of Deployments, StatefulSets, DaemonSets, Jobs, CronJobs
 * and Pods, deterministic by index, about half hardened (restricted PSS, limits, no token) and half weak (privileged,
 * host namespaces, hostPath, root, added capabilities, secrets in env). Every tenth file is multi-document with a
 * Service and a ConfigMap beside its workload (skipped kinds), every tenth (offset 5) holds two workloads, every
 * twentieth is JSON. Files are spread over nested directories so the directory walk is part of the measure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface GeneratedManifests {
  files: number;
  documents: number;
  bytes: number;
  /** One label per workload, as nomine names it after `file#N `: `Kind namespace/name` (no namespace: `Kind name`). */
  workloads: string[];
  byKind: Record<string, number>;
  hardened: number;
  weak: number;
}

const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'] as const;
type WorkloadKind = (typeof workloadKinds)[number];
const namespaces = ['shop', 'payments', 'monitoring', 'batch', undefined]; // undefined: the default namespace (a CIS finding)
const apiVersions: Record<WorkloadKind, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1', Pod: 'v1' };

function container(name: string, seed: number, hardened: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = {
    name,
    image: `registry.example.com/team-${seed % 17}/${name}:${hardened ? `1.${seed % 9}.${seed % 5}` : 'latest'}`,
    ports: [{ containerPort: 8000 + (seed % 100), name: 'http' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'REGION', value: `eu-${seed % 3}` },
    ],
  };
  if (hardened) {
    return {
      ...base,
      env: [...(base.env as object[]), { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    };
  }
  // Weak in a different way depending on the seed, so every check sees both outcomes across the set.
  const securityContext: Record<string, unknown> = {};
  if (seed % 4 === 0) securityContext.privileged = true;
  if (seed % 4 === 1) securityContext.capabilities = { add: ['SYS_ADMIN', 'NET_RAW'] };
  if (seed % 4 === 2) securityContext.runAsUser = 0;
  if (seed % 4 === 3) securityContext.allowPrivilegeEscalation = true;
  return {
    ...base,
    env: [...(base.env as object[]), { name: 'API_TOKEN', value: `tok-${seed.toString(16)}-not-a-secret` }],
    ...(Object.keys(securityContext).length ? { securityContext } : {}),
    ...(seed % 3 === 0 ? { volumeMounts: [{ name: 'host', mountPath: '/host' }] } : {}),
  };
}

function podSpec(index: number, hardened: boolean): Record<string, unknown> {
  const count = 1 + (index % 3);
  const containers = Array.from({ length: count }, (_, c) => container(c === 0 ? 'app' : `sidecar-${c}`, index + c, hardened));
  const spec: Record<string, unknown> = { containers };
  if (index % 4 === 1) spec.initContainers = [container('init', index + 7, hardened)];
  if (hardened) {
    spec.automountServiceAccountToken = false;
    spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 10001 };
    spec.volumes = [{ name: 'tmp', emptyDir: {} }];
  } else {
    if (index % 5 === 0) spec.hostNetwork = true;
    if (index % 5 === 1) spec.hostPID = true;
    if (index % 5 === 2) spec.hostIPC = true;
    spec.volumes = [{ name: 'host', hostPath: { path: index % 2 ? '/var/run/docker.sock' : '/', type: '' } }];
  }
  return spec;
}

function workload(kind: WorkloadKind, index: number, name: string, namespace: string | undefined, hardened: boolean): Record<string, unknown> {
  const labels = { app: name, tier: ['web', 'api', 'worker'][index % 3] };
  const metadata = { name, ...(namespace ? { namespace } : {}), labels };
  const template = { metadata: { labels }, spec: podSpec(index, hardened) };
  const selector = { matchLabels: { app: name } };
  switch (kind) {
    case 'Pod':
      return { apiVersion: apiVersions[kind], kind, metadata, spec: template.spec };
    case 'Deployment':
      return { apiVersion: apiVersions[kind], kind, metadata, spec: { replicas: 1 + (index % 5), selector, template } };
    case 'StatefulSet':
      return { apiVersion: apiVersions[kind], kind, metadata, spec: { serviceName: name, replicas: 3, selector, template } };
    case 'DaemonSet':
      return { apiVersion: apiVersions[kind], kind, metadata, spec: { selector, template } };
    case 'Job':
      return { apiVersion: apiVersions[kind], kind, metadata, spec: { backoffLimit: 2, template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } };
    case 'CronJob':
      return {
        apiVersion: apiVersions[kind],
        kind,
        metadata,
        spec: { schedule: `${index % 60} * * * *`, jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } } } } },
      };
  }
}

function label(document: Record<string, unknown>): string {
  const metadata = document.metadata as { name: string; namespace?: string };
  return `${String(document.kind)} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name}`;
}

export function generateManifests(dir: string, count: number): GeneratedManifests {
  const result: GeneratedManifests = { files: 0, documents: 0, bytes: 0, workloads: [], byKind: {}, hardened: 0, weak: 0 };
  for (let i = 0; i < count; i += 1) {
    const kind = workloadKinds[i % workloadKinds.length] as WorkloadKind;
    const namespace = namespaces[i % namespaces.length];
    const hardened = i % 2 === 0;
    const name = `svc-${String(i).padStart(5, '0')}`;
    const documents: Record<string, unknown>[] = [workload(kind, i, name, namespace, hardened)];
    if (i % 10 === 0) {
      const metadata = { name, ...(namespace ? { namespace } : {}) };
      documents.push(
        { apiVersion: 'v1', kind: 'Service', metadata, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 'http' }] } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...metadata, name: `${name}-config` }, data: { 'app.properties': `threads=${i % 8}\nmode=prod\n` } },
      );
    }
    if (i % 10 === 5) documents.push(workload('Deployment', i + 1, `${name}-canary`, namespace, !hardened));
    const subdir = join(dir, `team-${String(i % 20).padStart(2, '0')}`, kind.toLowerCase());
    mkdirSync(subdir, { recursive: true });
    const asJson = i % 20 === 7 && documents.length === 1;
    const text = asJson ? `${JSON.stringify(documents[0], null, 2)}\n` : documents.map((d) => `---\n${stringify(d)}`).join('');
    writeFileSync(join(subdir, `${name}.${asJson ? 'json' : i % 3 === 0 ? 'yml' : 'yaml'}`), text);
    result.files += 1;
    result.documents += documents.length;
    result.bytes += Buffer.byteLength(text);
    for (const document of documents) {
      const docKind = String(document.kind);
      if (!(workloadKinds as readonly string[]).includes(docKind)) continue;
      result.workloads.push(label(document));
      result.byKind[docKind] = (result.byKind[docKind] ?? 0) + 1;
      const isHardened = document === documents[0] ? hardened : !hardened;
      if (isHardened) result.hardened += 1;
      else result.weak += 1;
    }
  }
  return result;
}

/**
 * The floor contender: a plain Node script (no tsx, no nomine code) that walks the directory, reads every
 * *.yaml / *.yml / *.json file and parses it with yaml's parseAllDocuments, the least an auditor must do with the
 * same input. Prints `{ files, documents, errors }` so the bench can check it read everything.
 */
export function parseFloorScript(yamlEntry: string): string {
  return `import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const { parseAllDocuments } = createRequire(import.meta.url)(${JSON.stringify(yamlEntry)});
const root = process.argv[2];
const entries = await readdir(root, { withFileTypes: true, recursive: true });
const files = entries.filter((e) => e.isFile() && /\\.(ya?ml|json)$/.test(e.name)).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
let documents = 0;
let errors = 0;
for (const file of files) {
  for (const document of parseAllDocuments(await readFile(file, 'utf8'))) {
    documents += 1;
    errors += document.errors.length;
  }
}
process.stdout.write(JSON.stringify({ files: files.length, documents, errors }) + '\\n');
`;
}
