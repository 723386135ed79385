/**
 * KubeArmor exporter: a KubeArmorPolicy (security.kubearmor.com/v1) in KubeArmor's allow-list ("least permissive")
 * mode. The policy's action is Allow: the learned executables may run, the learned paths may be written, files may
 * be read, and the learned protocols used. Once a pod has an Allow policy, KubeArmor sends everything else to the
 * namespace's default posture — which blocks only when the namespace says so (the global default is audit):
 *   kubectl annotate ns NAMESPACE kubearmor-file-posture=block kubearmor-network-posture=block
 * (KubeArmor's "Default Posture" and "Least Permissive Access" docs; processes fall under the file posture.)
 */
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { policyYaml } from './policy-yaml.ts';
import { assertExportable, learningWarnings, requireWorkloadSelector } from './export-guard.ts';
import { policyName, policyNamespace } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { hashComment, provenanceLines } from './provenance.ts';

/** KubeArmor's CRD: paths are absolute and do not end in `/`; directories end in `/`. No control characters. */
const controlCharacters = /[\u0000-\u001f\u007f]/;

function isKubeArmorPath(path: unknown): path is string {
  return typeof path === 'string' && path.startsWith('/') && !path.endsWith('/') && path.length > 1 && !controlCharacters.test(path);
}

type FileRule = { kind: 'path'; path: string } | { kind: 'dir'; dir: string; recursive: boolean } | { kind: 'pattern'; pattern: string };

/** `/var/log/app.log` → path; `/tmp/*` → the directory; `/var/cache/**` → the directory, recursive; other globs → pattern. */
export function kubeArmorFileRule(pattern: string): FileRule | undefined {
  if (!isKubeArmorPath(pattern)) return undefined;
  const slash = pattern.lastIndexOf('/');
  const parent = pattern.slice(0, slash + 1);
  const last = pattern.slice(slash + 1);
  if (!pattern.includes('*')) return { kind: 'path', path: pattern };
  if (!parent.includes('*') && (last === '*' || last === '**')) return { kind: 'dir', dir: parent, recursive: last === '**' };
  return { kind: 'pattern', pattern };
}

export const postureCommand = (namespace: string | undefined): string =>
  `kubectl annotate ns ${namespace ?? 'NAMESPACE'} kubearmor-file-posture=block kubearmor-network-posture=block --overwrite`;

export const kubeArmorExporter: PolicyExporter = {
  id: 'kubearmor',
  description: 'KubeArmorPolicy in allow-list mode: only the learned processes, write paths and protocols',
  kubernetesResource: true,
  fileName: (profile) => `${policyName(profile)}.kubearmor.yaml`,
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'KubeArmor');
    const selector = requireWorkloadSelector(profile, options, 'a KubeArmorPolicy without them would put every pod of the namespace into allow-list mode');
    const namespace = policyNamespace(profile, options.namespace);
    const warnings = learningWarnings(profile);

    const executables = new Set<string>();
    const badExecutables: unknown[] = [];
    for (const process of profile.allow.processes) {
      if (isKubeArmorPath(process.exe)) executables.add(process.exe);
      else badExecutables.push(process.exe);
    }
    if (executables.size === 0) {
      throw new NomineError('invalid-input', `profile ${profile.id} has no executables KubeArmor can name; an allow-list without any would block every program`, `profile ${profile.id}`);
    }
    if (badExecutables.length > 0) warnings.push(`left out executables KubeArmor cannot match (not absolute, or control characters): ${badExecutables.slice(0, 5).map((e) => JSON.stringify(e)).join(', ')}`);

    const paths = new Set<string>();
    const dirs = new Map<string, boolean>();
    const patterns = new Set<string>();
    const badWrites: unknown[] = [];
    for (const write of profile.allow.fileWrites) {
      const rule = typeof write.pattern === 'string' ? kubeArmorFileRule(write.pattern) : undefined;
      if (!rule) badWrites.push(write.pattern);
      else if (rule.kind === 'path') paths.add(rule.path);
      else if (rule.kind === 'dir') dirs.set(rule.dir, (dirs.get(rule.dir) ?? false) || rule.recursive);
      else patterns.add(rule.pattern);
    }
    if (badWrites.length > 0) warnings.push(`left out write paths KubeArmor cannot match: ${badWrites.slice(0, 5).map((e) => JSON.stringify(e)).join(', ')}`);
    const protocols = new Set<string>();
    for (const entry of [...profile.allow.egress, ...profile.allow.listen]) {
      if (entry.protocol === 'tcp' || entry.protocol === 'udp') protocols.add(entry.protocol);
    }
    warnings.push(`KubeArmor blocks what this policy does not allow only where the namespace's default posture is block: ${postureCommand(namespace)}`);

    const sorted = <T>(values: Iterable<T>) => [...values].sort();
    const document = {
      apiVersion: 'security.kubearmor.com/v1',
      kind: 'KubeArmorPolicy',
      metadata: {
        name: policyName(profile),
        ...(namespace ? { namespace } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'nomine' },
        annotations: { 'nomine.io/profile': profile.id, 'nomine.io/workload': profile.key.workload, 'nomine.io/revision': String(profile.revision) },
      },
      spec: {
        selector: { matchLabels: selector },
        message: 'nomine: outside the learned allow-list of this workload',
        tags: ['nomine'],
        process: { matchPaths: sorted(executables).map((path) => ({ path })) },
        file: {
          // Reads stay open (they are not learned); writes only below the learned paths.
          matchDirectories: [
            { dir: '/', recursive: true, readOnly: true },
            ...sorted(dirs.keys()).map((dir) => ({ dir, ...(dirs.get(dir) ? { recursive: true } : {}) })),
          ],
          ...(paths.size > 0 ? { matchPaths: sorted(paths).map((path) => ({ path })) } : {}),
          ...(patterns.size > 0 ? { matchPatterns: sorted(patterns).map((pattern) => ({ pattern })) } : {}),
        },
        ...(protocols.size > 0 ? { network: { matchProtocols: sorted(protocols).map((protocol) => ({ protocol })) } } : {}),
        action: 'Allow',
      },
    };
    const header = hashComment([
      ...provenanceLines(profile, 'KubeArmorPolicy'),
      '',
      'Allow-list mode: what is not allowed here goes to the default posture, which blocks only after',
      `  ${postureCommand(namespace)}`,
      'KubeArmor matches the real path of a program: list binaries, not the symlinks that start them.',
    ]);
    return { content: header + policyYaml(document), warnings };
  },
};
