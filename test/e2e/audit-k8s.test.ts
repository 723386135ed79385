/**
 * `nomine audit k8s` through the CLI command on manifests written to a temporary directory: a weak and a
 * restricted workload, a kubelet config, an API server static pod, and hostile files; JSON and SARIF output,
 * file:line evidence, exit codes, and the not-yet-supported --cluster.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import type { AuditReport, AuditResult } from '../../src/audit/audit-report.ts';
import { auditCommand } from '../../src/cli/commands/audit.ts';
import { isNomineError } from '../../src/core/errors.ts';

const weakDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: weak
spec:
  template:
    spec:
      hostNetwork: true
      volumes:
        - name: sock
          hostPath: { path: /var/run/docker.sock }
      containers:
        - name: app
          image: busybox
          securityContext:
            privileged: true
`;

const restrictedPod = `apiVersion: v1
kind: Pod
metadata:
  name: restricted
  namespace: shop
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: app
      image: busybox
      resources:
        limits: { cpu: 100m, memory: 64Mi }
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
`;

const kubelet = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
`;

const apiserver = `apiVersion: v1
kind: Pod
metadata: { name: kube-apiserver, namespace: kube-system }
spec:
  hostNetwork: true
  containers:
    - name: kube-apiserver
      command:
        - kube-apiserver
        - --authorization-mode=AlwaysAllow
        - --insecure-port=8080
        - --tls-cert-file=/pki/apiserver.crt
        - --tls-private-key-file=/pki/apiserver.key
`;

async function audit(args: string[], dir: string, format = 'json'): Promise<{ exitCode: number; text: string }> {
  const output = join(dir, `report-${randomBytes(3).toString('hex')}`);
  const program = new Command('nomine').exitOverride().addCommand(auditCommand());
  const before = process.exitCode;
  try {
    await program.parseAsync(['audit', 'k8s', ...args, '--format', format, '-o', output], { from: 'user' });
    return { exitCode: Number(process.exitCode ?? 0), text: await readFile(output, 'utf8') };
  } finally {
    process.exitCode = before;
  }
}

function find(report: AuditReport, entity: RegExp, checkId: string): AuditResult {
  const found = report.results.find((result) => entity.test(result.entity.name) && result.checkId === checkId);
  assert.ok(found, `no ${checkId} for ${entity}`);
  return found;
}

describe('nomine audit k8s', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-audit-k8s-'));
    await mkdir(join(dir, 'deploy'));
    await writeFile(join(dir, 'deploy', 'weak.yaml'), weakDeployment);
    await writeFile(join(dir, 'deploy', 'restricted.yml'), restrictedPod);
    await writeFile(join(dir, 'kubelet-config.yaml'), kubelet);
    await writeFile(join(dir, 'kube-apiserver.yaml'), apiserver);
    await writeFile(join(dir, 'broken.yaml'), 'kind: Pod\nspec: [unclosed\n');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails the weak workload at the right lines and passes the restricted one on every workload check', async () => {
    const { exitCode, text } = await audit([join(dir, 'deploy')], dir);
    const report = JSON.parse(text) as AuditReport;
    assert.equal(exitCode, 1);
    const privileged = find(report, /weak\.yaml#1 Deployment weak/, 'k8s.workload.privileged');
    assert.equal(privileged.status, 'fail');
    assert.deepEqual(privileged.evidence[0]?.location, { path: join(dir, 'deploy', 'weak.yaml'), line: 16 });
    assert.ok(privileged.references.includes('Pod Security Standards v1.30 baseline/privileged-containers'));
    assert.equal(find(report, /weak/, 'k8s.workload.host-namespaces').evidence[0]?.location?.line, 8);
    assert.equal(find(report, /weak/, 'k8s.workload.host-path-volumes').status, 'fail');
    const restricted = report.results.filter((result) => /restricted/.test(result.entity.name));
    assert.deepEqual(restricted.filter((result) => result.status !== 'pass').map((result) => `${result.checkId} ${result.status}`), []);
  });

  it('audits kubelet config and API server flags, and reports a broken file as an error (exit 2)', async () => {
    const { exitCode, text } = await audit([dir], dir);
    const report = JSON.parse(text) as AuditReport;
    assert.equal(exitCode, 2);
    assert.equal(find(report, /KubeletConfiguration/, 'k8s.kubelet.anonymous-auth').status, 'fail');
    assert.equal(find(report, /KubeletConfiguration/, 'k8s.kubelet.read-only-port').evidence[0]?.location?.line, 8);
    assert.equal(find(report, /kube-apiserver/, 'k8s.apiserver.authorization-mode').status, 'fail');
    assert.equal(find(report, /kube-apiserver/, 'k8s.apiserver.insecure-port').evidence[0]?.location?.line, 11);
    assert.equal(find(report, /kube-apiserver/, 'k8s.apiserver.tls').status, 'pass');
    const broken = find(report, /broken\.yaml/, 'audit.collect');
    assert.equal(broken.status, 'error');
    assert.equal(broken.evidence[0]?.location?.path, join(dir, 'broken.yaml'));
  });

  it('writes SARIF 2.1.0 with rules and file regions', async () => {
    const { text } = await audit([join(dir, 'deploy', 'weak.yaml')], dir, 'sarif');
    const sarif = JSON.parse(text) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; locations: { physicalLocation?: { region?: { startLine: number } } }[] }[] }[] };
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0]!;
    assert.ok(run.tool.driver.rules.some((rule) => rule.id === 'k8s.workload.privileged'));
    const result = run.results.find((r) => r.ruleId === 'k8s.workload.privileged');
    assert.equal(result?.locations[0]?.physicalLocation?.region?.startLine, 16);
  });

  it('a missing path is an error result, not a crash; paths and --cluster together are refused', async () => {
    const { exitCode, text } = await audit([join(dir, 'nope.yaml'), join(dir, 'deploy', 'restricted.yml')], dir);
    assert.equal(exitCode, 2);
    assert.ok((JSON.parse(text) as AuditReport).results.some((result) => result.status === 'pass'));
    await assert.rejects(audit(['--cluster', join(dir, 'deploy', 'restricted.yml')], dir), (error: unknown) => isNomineError(error) && error.code === 'invalid-input' && /not both|both/.test(error.message));
  });
});
