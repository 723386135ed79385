/**
 * `nomine audit k8s --cluster` through the CLI command against a fake Kubernetes API server (HTTPS on 127.0.0.1,
 * bearer token, real List and Status shapes): the same results as the equivalent manifests, pagination followed,
 * a forbidden resource reported by name while the others are audited, an unreachable server as exit 2.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Command } from 'commander';
import { stringify } from 'yaml';
import type { AuditReport, AuditResult } from '../../src/audit/audit-report.ts';
import { collectManifestText } from '../../src/audit/collectors/k8s-manifest.ts';
import { auditCommand, buildAuditReport } from '../../src/cli/commands/audit.ts';
import { isNomineError } from '../../src/core/errors.ts';
import { addObjects, kubeconfigText, startFakeKubeApiServer, type FakeKubeApiServer } from '../helpers/fake-kube-apiserver.ts';
import { makeTestCertificates } from '../helpers/probe-certificates.ts';

const weakDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'weak', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'weak' } },
    template: {
      metadata: { labels: { app: 'weak' } },
      spec: {
        volumes: [{ name: 'host', hostPath: { path: '/var/run/docker.sock' } }],
        containers: [{ name: 'app', image: 'busybox', securityContext: { privileged: true }, volumeMounts: [{ name: 'host', mountPath: '/var/run/docker.sock' }] }],
      },
    },
  },
};

const hardenedDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'hardened', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'hardened' } },
    template: {
      metadata: { labels: { app: 'hardened' } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'app',
            image: 'busybox',
            resources: { limits: { cpu: '100m', memory: '64Mi' } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    },
  },
};

function pod(name: string, namespace: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...extra }, spec: { containers: [{ name: 'app', image: 'busybox' }] } };
}

async function audit(args: string[], dir: string): Promise<{ exitCode: number; report: AuditReport }> {
  const output = join(dir, `report-${randomBytes(3).toString('hex')}`);
  const program = new Command('nomine').exitOverride().addCommand(auditCommand());
  const saved = process.exitCode;
  try {
    await program.parseAsync(['audit', 'k8s', '--cluster', ...args, '--format', 'json', '-o', output], { from: 'user' });
    return { exitCode: Number(process.exitCode ?? 0), report: JSON.parse(await readFile(output, 'utf8')) as AuditReport };
  } finally {
    process.exitCode = saved;
  }
}

function results(report: AuditReport, entity: RegExp): AuditResult[] {
  return report.results.filter((result) => entity.test(result.entity.name));
}

function statuses(list: AuditResult[]): Record<string, string> {
  return Object.fromEntries(list.map((result) => [result.checkId, result.status]).sort());
}

describe('nomine audit k8s --cluster', () => {
  let dir: string;
  let server: FakeKubeApiServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-cluster-'));
    server = await startFakeKubeApiServer();
  });
  beforeEach(() => {
    for (const list of server.objects.values()) list.length = 0;
    server.forbidden.clear();
    server.malformed.clear();
    server.requests.length = 0;
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails a weak Deployment on the same checks as its manifest, passes a hardened one, and sends the bearer token', async () => {
    addObjects(server, weakDeployment, hardenedDeployment);
    const { exitCode, report } = await audit(['--kubeconfig', server.kubeconfigPath], dir);
    assert.equal(exitCode, 1);
    const weak = results(report, /^cluster fake shop\/Deployment\/weak$/);
    assert.ok(weak.length > 10, `weak Deployment audited: ${report.results.map((r) => r.entity.name).join(', ')}`);
    for (const checkId of ['k8s.workload.privileged', 'k8s.workload.host-path-volumes', 'k8s.workload.resource-limits']) {
      assert.equal(weak.find((result) => result.checkId === checkId)?.status, 'fail', checkId);
    }
    const hardened = results(report, /^cluster fake shop\/Deployment\/hardened$/);
    assert.ok(hardened.length > 10);
    assert.deepEqual(hardened.filter((result) => result.status !== 'pass').map((result) => `${result.checkId} ${result.status}`), []);

    // The same objects as manifests give the same verdict on every check.
    const manifests = collectManifestText([weakDeployment, hardenedDeployment].map((object) => stringify(object)).join('---\n'), 'deploy.yaml');
    const fromFiles = await buildAuditReport('k8s', manifests);
    assert.deepEqual(statuses(weak), statuses(results(fromFiles, /Deployment shop\/weak/)));
    assert.deepEqual(statuses(hardened), statuses(results(fromFiles, /Deployment shop\/hardened/)));

    assert.ok(server.requests.length >= 6);
    assert.ok(server.requests.every((request) => request.authorization === `Bearer ${server.token}`));
    assert.deepEqual(new Set(server.requests.map((request) => request.path)), new Set(['/api/v1/pods', '/apis/apps/v1/deployments', '/apis/apps/v1/statefulsets', '/apis/apps/v1/daemonsets', '/apis/batch/v1/jobs', '/apis/batch/v1/cronjobs']));
  });

  it('follows continue tokens across pages and audits every object once; controller-run pods are skipped', async () => {
    const pods = Array.from({ length: 1203 }, (_, index) => pod(`p${index}`, index % 2 ? 'shop' : 'web'));
    addObjects(server, ...pods, pod('replica', 'shop', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'weak-7d9', uid: 'x', controller: true }] }));
    const { report } = await audit(['--kubeconfig', server.kubeconfigPath], dir);
    const podRequests = server.requests.filter((request) => request.path === '/api/v1/pods');
    assert.equal(podRequests.length, 3);
    assert.equal(podRequests[0]?.query.get('continue'), null);
    assert.ok(podRequests[1]?.query.get('continue'));
    assert.equal(podRequests[0]?.query.get('limit'), '500');
    const audited = new Set(report.results.filter((result) => result.checkId === 'k8s.workload.privileged').map((result) => result.entity.name));
    assert.equal(audited.size, 1203);
    assert.ok(audited.has('cluster fake web/Pod/p1202'));
    assert.ok(report.skipped.some((item) => item.name === 'cluster fake shop/Pod/replica' && /ReplicaSet weak-7d9/.test(item.reason)));
  });

  it('reports a forbidden resource by name as an error (exit 2) and still audits the others', async () => {
    addObjects(server, weakDeployment, pod('lone', 'shop'));
    server.forbidden.add('deployments');
    const { exitCode, report } = await audit(['--kubeconfig', server.kubeconfigPath, '--namespace', 'shop'], dir);
    assert.equal(exitCode, 2);
    const errors = report.results.filter((result) => result.status === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.checkId, 'audit.collect');
    assert.equal(errors[0]?.entity.name, 'cluster fake shop/deployments.apps');
    assert.match(errors[0]?.message ?? '', /^cannot list deployments\.apps in namespace shop: forbidden — server: deployments\.apps is forbidden/);
    assert.equal(results(report, /shop\/Pod\/lone/).find((result) => result.checkId === 'k8s.workload.privileged')?.status, 'pass');
    assert.ok(server.requests.some((request) => request.path === '/apis/batch/v1/namespaces/shop/cronjobs'));
    assert.ok(server.requests.every((request) => request.path.includes('/namespaces/shop/')));
  });

  it('reports a malformed answer for that resource and goes on', async () => {
    addObjects(server, pod('lone', 'shop'));
    server.malformed.add('statefulsets');
    const { exitCode, report } = await audit(['--kubeconfig', server.kubeconfigPath], dir);
    assert.equal(exitCode, 2);
    const error = report.results.find((result) => result.status === 'error');
    assert.match(error?.message ?? '', /malformed answer listing statefulsets\.apps: not JSON/);
    assert.ok(results(report, /Pod\/lone/).length > 0);
  });

  it('an unreachable API server is one clear error and exit 2', async () => {
    const { selfSigned } = makeTestCertificates();
    const kubeconfig = join(dir, 'unreachable');
    await writeFile(kubeconfig, kubeconfigText('https://127.0.0.1:1', selfSigned.cert, 't', 'gone'));
    const { exitCode, report } = await audit(['--kubeconfig', kubeconfig], dir);
    assert.equal(exitCode, 2);
    assert.equal(report.results.length, 1);
    assert.equal(report.results[0]?.entity.name, 'cluster gone');
    assert.match(report.results[0]?.message ?? '', /cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('a wrong token is unauthorized; an unknown context and a missing kubeconfig are input errors', async () => {
    const wrong = join(dir, 'wrong-token');
    await writeFile(wrong, (await readFile(server.kubeconfigPath, 'utf8')).replace(server.token, 'nope'));
    const { report } = await audit(['--kubeconfig', wrong], dir);
    assert.equal(report.results.filter((result) => result.status === 'error').length, 6);
    assert.ok(report.results.filter((result) => result.status === 'error').every((result) => /unauthorized/.test(result.message ?? '')));
    await assert.rejects(audit(['--kubeconfig', server.kubeconfigPath, '--context', 'prod'], dir), (error) => isNomineError(error) && /no context "prod" in the kubeconfig \(has: fake\)/.test(error.message));
    await assert.rejects(audit(['--kubeconfig', join(dir, 'absent')], dir), (error) => isNomineError(error) && error.code === 'invalid-input');
    await assert.rejects(audit(['--kubeconfig', server.kubeconfigPath, 'deploy/'], dir), (error) => isNomineError(error) && /not both/.test(error.message));
  });
});
