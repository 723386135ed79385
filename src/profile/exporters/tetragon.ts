/**
 * Tetragon exporter: a TracingPolicy (cilium.io/v1alpha1) that kills, in the kernel, any process of the workload's
 * pods that calls execve or execveat on a program outside the learned allow-list. The hook is the syscall's kprobe
 * with the path argument matched `NotEqual` to the allowed paths and the `Sigkill` action, so the new program never
 * runs an instruction. A namespaced workload gets a TracingPolicyNamespaced (same spec), so the policy cannot reach
 * pods of another namespace that happen to carry the same labels.
 *
 * Paths are matched as the process passed them to execve, which is how the sensors record executables; a workload
 * that runs a program through a relative path or another symlink than the one it was seen using is killed too.
 */
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { policyYaml } from './policy-yaml.ts';
import { assertExportable, learningWarnings, requireWorkloadSelector } from './export-guard.ts';
import { policyName, policyNamespace } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { hashComment, provenanceLines } from './provenance.ts';

const controlCharacters = /[\u0000-\u001f\u007f]/;

function killUnlessAllowed(call: string, pathArgument: number, args: { index: number; type: string }[], allowed: string[]) {
  return {
    call,
    syscall: true,
    args,
    selectors: [{ matchArgs: [{ index: pathArgument, operator: 'NotEqual', values: allowed }], matchActions: [{ action: 'Sigkill' }] }],
  };
}

export const tetragonExporter: PolicyExporter = {
  id: 'tetragon',
  description: 'Tetragon TracingPolicy: kill any exec of a program outside the learned allow-list',
  kubernetesResource: true,
  fileName: (profile) => `${policyName(profile)}.tetragon.yaml`,
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'Tetragon');
    const selector = requireWorkloadSelector(profile, options, 'without a podSelector the TracingPolicy would kill processes in every pod of the cluster');
    const namespace = policyNamespace(profile, options.namespace);
    const warnings = learningWarnings(profile);
    if (namespace === undefined) warnings.push('the profile names no namespace: this is a cluster-wide TracingPolicy and applies to matching pods in every namespace');

    const allowed = new Set<string>();
    const bad: unknown[] = [];
    for (const process of profile.allow.processes) {
      if (typeof process.exe === 'string' && process.exe.length > 0 && !controlCharacters.test(process.exe)) allowed.add(process.exe);
      else bad.push(process.exe);
    }
    if (bad.length > 0) warnings.push(`left out executables Tetragon cannot match (empty or control characters): ${bad.slice(0, 5).map((e) => JSON.stringify(e)).join(', ')}`);
    if (allowed.size === 0) {
      throw new NomineError('invalid-input', `profile ${profile.id} has no executables: the TracingPolicy would kill every exec in the workload's pods`, `profile ${profile.id}`);
    }
    const values = [...allowed].sort();
    const document = {
      apiVersion: 'cilium.io/v1alpha1',
      kind: namespace ? 'TracingPolicyNamespaced' : 'TracingPolicy',
      metadata: {
        name: policyName(profile),
        ...(namespace ? { namespace } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'nomine' },
        annotations: { 'nomine.io/profile': profile.id, 'nomine.io/workload': profile.key.workload, 'nomine.io/revision': String(profile.revision) },
      },
      spec: {
        podSelector: { matchLabels: selector },
        kprobes: [
          killUnlessAllowed('sys_execve', 0, [{ index: 0, type: 'string' }], values),
          killUnlessAllowed('sys_execveat', 1, [{ index: 0, type: 'int' }, { index: 1, type: 'string' }], values),
        ],
      },
    };
    return { content: hashComment(provenanceLines(profile, 'Tetragon TracingPolicy')) + policyYaml(document), warnings };
  },
};
