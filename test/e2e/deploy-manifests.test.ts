/**
 * The Kubernetes manifests in deploy/kubernetes, checked by nomine itself: the real `nomine audit k8s
 * deploy/kubernetes --json`. The console and PostgreSQL pass every check; the agent DaemonSet fails exactly the
 * checks its eBPF sensor and actuators must fail, each waived with a reason in deploy/audit-waivers.yaml, and the
 * privileges behind those failures are exactly the ones agent.yaml justifies. Copies of the manifests with one
 * needless privilege added show that this test notices.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validatePolicyText } from '../../src/profile/exporters/validate-policy.ts';
import { describeRun, parseStdout, repositoryRoot, runCli, tempHome } from '../helpers/run-cli.ts';

const manifests = join(repositoryRoot, 'deploy/kubernetes');
const waiverFile = join(repositoryRoot, 'deploy/audit-waivers.yaml');

/** What the agent may hold, and nothing more. Adding to these lists needs a reason in agent.yaml and the waivers. */
const agentPrivileges = {
  failingChecks: [
    'k8s.workload.apparmor',
    'k8s.workload.capabilities-baseline',
    'k8s.workload.capabilities-restricted',
    'k8s.workload.host-namespaces',
    'k8s.workload.host-path-volumes',
    'k8s.workload.run-as-non-root',
    'k8s.workload.run-as-user-root',
    'k8s.workload.volume-types',
  ],
  capabilities: ['BPF', 'PERFMON', 'SYS_ADMIN', 'SYS_RESOURCE', 'SYS_PTRACE', 'DAC_READ_SEARCH', 'KILL'],
  hostNamespaces: ['pod.spec.hostPID'],
  hostPaths: ['/var/lib/nomine', '/sys/kernel/tracing', '/run/containerd'],
  /** Host paths the agent only reads. */
  readOnlyHostPaths: ['/sys/kernel/tracing', '/run/containerd'],
  rootContainers: ['agent', 'enrol'],
  unconfinedContainers: ['agent'],
};

interface AuditResult {
  checkId: string;
  status: string;
  entity: { name: string; target: string };
  evidence: { summary: string; field?: string }[];
  waived?: { reason: string };
}

interface AuditJson {
  results: AuditResult[];
  summary: Record<string, number>;
  skipped: { name: string; reason: string }[];
}

const isAgent = (result: AuditResult) => / DaemonSet nomine\/nomine-agent$/.test(result.entity.name);

/** Everything in an audit report that breaks the rules above; empty when the manifests are as they should be. */
function privilegeProblems(report: AuditJson): string[] {
  const problems: string[] = [];
  const workloads = new Set(report.results.map((result) => result.entity.name.replace(/^\S+ /, '')));
  for (const expected of ['Deployment nomine/nomine-console', 'StatefulSet nomine/nomine-postgres', 'DaemonSet nomine/nomine-agent']) {
    if (!workloads.has(expected)) problems.push(`${expected} was not audited`);
  }
  for (const result of report.results) {
    const where = `${result.entity.name.replace(/^\S+ /, '')}: ${result.checkId}`;
    if (result.status === 'error') problems.push(`${where} errored: ${result.evidence.map((item) => item.summary).join('; ')}`);
    if (!isAgent(result)) {
      if (result.status !== 'pass' && result.status !== 'not-applicable') problems.push(`${where} is ${result.status}: ${result.evidence.map((item) => item.summary).join('; ')}`);
      continue;
    }
    if (result.status === 'pass' || result.status === 'not-applicable') continue;
    if (!agentPrivileges.failingChecks.includes(result.checkId)) {
      problems.push(`${where} is ${result.status}, which the agent does not need: ${result.evidence.map((item) => item.summary).join('; ')}`);
      continue;
    }
    for (const item of result.evidence) problems.push(...evidenceProblems(result.checkId, item.summary, item.field ?? '').map((problem) => `${where}: ${problem}`));
  }
  return problems;
}

/** The evidence of a failure the agent is allowed must name only the privileges it is allowed. */
function evidenceProblems(checkId: string, summary: string, field: string): string[] {
  const quoted = /is "([^"]+)"/.exec(summary)?.[1];
  const container = /^containers\[\d+\] \(([^)]+)\)/.exec(summary)?.[1];
  switch (checkId) {
    case 'k8s.workload.host-namespaces':
      return agentPrivileges.hostNamespaces.includes(field) ? [] : [`shares a host namespace it does not need: ${summary}`];
    case 'k8s.workload.capabilities-baseline':
    case 'k8s.workload.capabilities-restricted':
      if (container !== undefined && container !== 'agent') return [`container ${container} adds capabilities: ${summary}`];
      return quoted !== undefined && agentPrivileges.capabilities.includes(quoted) ? [] : [`adds a capability it does not need: ${summary}`];
    case 'k8s.workload.host-path-volumes': {
      const path = /"path":"([^"]+)"/.exec(summary)?.[1];
      return path !== undefined && agentPrivileges.hostPaths.includes(path) ? [] : [`mounts a host path it does not need: ${summary}`];
    }
    case 'k8s.workload.volume-types': {
      const volume = /^pod\.spec\.volumes\[\d+\] \(([^)]+)\)/.exec(summary)?.[1];
      return volume !== undefined && ['data', 'tracefs', 'containerd'].includes(volume) ? [] : [`has a volume outside the restricted set it does not need: ${summary}`];
    }
    case 'k8s.workload.run-as-non-root':
      return container !== undefined && agentPrivileges.rootContainers.includes(container) ? [] : [`runs as root where it need not: ${summary}`];
    case 'k8s.workload.run-as-user-root':
      // The pod itself stays without a uid; only the two containers that need root say 0.
      return /^containers\[[01]\]\.securityContext\.runAsUser$/.test(field) ? [] : [`runs as uid 0 where it need not: ${summary}`];
    case 'k8s.workload.apparmor':
      return field === 'containers[0].securityContext.appArmorProfile.type' ? [] : [`is unconfined where it need not be: ${summary}`];
    default:
      return [`unexpected evidence: ${summary}`];
  }
}

async function audit(dir: string, home: string, extra: string[] = []) {
  const result = await runCli(['audit', 'k8s', dir, '--json', ...extra], { home, timeoutMs: 120_000 });
  return { result, report: parseStdout<AuditJson>(result) };
}

describe('deploy/kubernetes, audited by nomine itself', () => {
  let home: string;
  before(async () => (home = await tempHome('nomine-e2e-deploy-')));
  after(() => rm(home, { recursive: true, force: true }));

  it('passes every check for the console and PostgreSQL; the agent fails only what its sensor needs', async () => {
    const { result, report } = await audit(manifests, home);
    assert.equal(result.code, 1, describeRun(result));
    assert.deepEqual(privilegeProblems(report), []);
    const agentFailures = report.results.filter((entry) => isAgent(entry) && entry.status === 'fail').map((entry) => entry.checkId).sort();
    assert.deepEqual(agentFailures, agentPrivileges.failingChecks);
    assert.equal(report.summary.error, 0);
    assert.deepEqual(report.skipped.filter((entry) => !/runs no pods/.test(entry.reason)), []);
  });

  it('waives each of the agent\'s failures with a reason, using every waiver, and then exits 0', async () => {
    const { result, report } = await audit(manifests, home, ['--waivers', waiverFile]);
    assert.equal(result.code, 0, describeRun(result));
    const failures = report.results.filter((entry) => entry.status === 'fail');
    assert.ok(failures.every((entry) => isAgent(entry) && entry.waived && entry.waived.reason.length > 40), JSON.stringify(failures.filter((entry) => !entry.waived)));
    assert.deepEqual(failures.map((entry) => entry.checkId).sort(), agentPrivileges.failingChecks);
    const waivers = parseAllDocuments(await readFile(waiverFile, 'utf8'))[0]!.toJS().waivers as { check: string; entity: string }[];
    assert.deepEqual(waivers.map((waiver) => waiver.check).sort(), agentPrivileges.failingChecks, 'one waiver per failing check, none unused');
    assert.ok(waivers.every((waiver) => waiver.entity.endsWith('DaemonSet nomine/nomine-agent')), 'waivers name the agent only');
  });

  it('mounts only read-only what the agent only reads, and grants nothing the audit cannot see', async () => {
    const documents = parseAllDocuments(await readFile(join(manifests, 'agent.yaml'), 'utf8')).map((document) => document.toJS());
    const daemonSet = documents.find((document) => document?.kind === 'DaemonSet');
    const pod = daemonSet.spec.template.spec;
    const hostVolumes = new Map<string, string>(pod.volumes.filter((volume: any) => volume.hostPath).map((volume: any) => [volume.name, volume.hostPath.path]));
    for (const container of [...pod.containers, ...pod.initContainers]) {
      assert.notEqual(container.securityContext?.privileged, true, container.name);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, container.name);
      assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], container.name);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true, container.name);
      for (const mount of container.volumeMounts ?? []) {
        const path = hostVolumes.get(mount.name);
        if (path && agentPrivileges.readOnlyHostPaths.includes(path)) assert.equal(mount.readOnly, true, `${container.name} mounts ${path} writable`);
      }
    }
    assert.equal(pod.initContainers[0].securityContext.capabilities.add, undefined, 'the enrol step needs no capability');
    assert.equal(pod.automountServiceAccountToken, false);
  });

  it('has network policies that validate against the NetworkPolicy schema, starting from default deny', async () => {
    const text = await readFile(join(manifests, 'network-policies.yaml'), 'utf8');
    assert.deepEqual(validatePolicyText('networkpolicy', text), { valid: true, errors: [] });
    const [first] = parseAllDocuments(text).map((document) => document.toJS());
    assert.deepEqual({ name: first.metadata.name, selector: first.spec.podSelector, types: first.spec.policyTypes, ingress: first.spec.ingress, egress: first.spec.egress }, { name: 'default-deny', selector: {}, types: ['Ingress', 'Egress'], ingress: undefined, egress: undefined });
  });

  it('renders with kustomize into the namespace, every workload with the image set there', { skip: spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0 ? false : 'kubectl is not installed' }, () => {
    const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', manifests], { encoding: 'utf8' })).map((document) => document.toJS());
    const workloads = rendered.filter((object) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind));
    assert.deepEqual(workloads.map((object) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`).sort(), ['DaemonSet/nomine/nomine-agent', 'Deployment/nomine/nomine-console', 'StatefulSet/nomine/nomine-postgres']);
    const images = workloads.flatMap((object) => [...object.spec.template.spec.containers, ...(object.spec.template.spec.initContainers ?? [])].map((container: { image: string }) => container.image));
    assert.ok(images.every((image) => image === 'registry.example.com/nomine:0.1.0' || image.startsWith('postgres:')), images.join(', '));
  });
});

describe('the manifest test notices a needless privilege', () => {
  let home: string;
  let copies: string;
  before(async () => {
    home = await tempHome('nomine-e2e-deploy-mutants-');
    copies = join(home, 'manifests');
  });
  after(() => rm(home, { recursive: true, force: true }));

  const mutations: { name: string; file: string; from: string; to: string; expected: RegExp }[] = [
    { name: 'hostNetwork on the agent', file: 'agent.yaml', from: '      hostPID: true\n', to: '      hostPID: true\n      hostNetwork: true\n', expected: /shares a host namespace it does not need: pod\.spec\.hostNetwork/ },
    { name: 'NET_ADMIN on the agent', file: 'agent.yaml', from: '                - KILL\n', to: '                - KILL\n                - NET_ADMIN\n', expected: /adds a capability it does not need: .*"NET_ADMIN"/ },
    {
      name: "the Docker socket on the agent",
      file: 'agent.yaml',
      from: '        - name: tmp\n          emptyDir: { sizeLimit: 64Mi }\n        - name: join-token',
      to: '        - name: tmp\n          emptyDir: { sizeLimit: 64Mi }\n        - name: docker\n          hostPath: { path: /var/run/docker.sock, type: Socket }\n        - name: join-token',
      expected: /mounts a host path it does not need: .*docker\.sock/,
    },
    { name: 'a privileged agent', file: 'agent.yaml', from: '            runAsUser: 0\n            runAsNonRoot: false\n            readOnlyRootFilesystem: true\n            # Compatible', to: '            runAsUser: 0\n            runAsNonRoot: false\n            privileged: true\n            readOnlyRootFilesystem: true\n            # Compatible', expected: /k8s\.workload\.privileged is fail, which the agent does not need/ },
    { name: 'a writable root file system on the console', file: 'console.yaml', from: '            readOnlyRootFilesystem: true\n', to: '            readOnlyRootFilesystem: false\n', expected: /Deployment nomine\/nomine-console: k8s\.workload\.readonly-root-filesystem is fail/ },
    {
      name: 'a secret in the environment of PostgreSQL',
      file: 'postgres.yaml',
      from: '            - { name: POSTGRES_PASSWORD_FILE, value: /var/run/secrets/nomine-db/password }\n',
      to: '            - name: POSTGRES_PASSWORD\n              valueFrom: { secretKeyRef: { name: nomine-db, key: password } }\n',
      expected: /StatefulSet nomine\/nomine-postgres: k8s\.workload\.secrets-in-env is warn/,
    },
  ];

  for (const mutation of mutations) {
    it(`catches ${mutation.name}`, async () => {
      await rm(copies, { recursive: true, force: true });
      await cp(manifests, copies, { recursive: true });
      const file = join(copies, mutation.file);
      const text = await readFile(file, 'utf8');
      assert.ok(text.includes(mutation.from), `the mutation no longer applies to ${mutation.file}: update the test`);
      await writeFile(file, text.replace(mutation.from, mutation.to));
      const { report } = await audit(copies, home);
      const problems = privilegeProblems(report);
      assert.ok(problems.some((problem) => mutation.expected.test(problem)), problems.join('\n') || 'no problem found');
    });
  }
});
