/**
 * Control-plane static pods (kubeadm's /etc/kubernetes/manifests/*.yaml): a Pod whose container runs
 * kube-apiserver, kube-controller-manager, kube-scheduler or etcd. Facts are its flags, parsed from command and
 * args (`--anonymous-auth=false` → `flags.anonymous-auth: "false"`, a bare `--profiling` → "true"), with the pod
 * beside them; each flag maps back to the list item that set it, for file:line.
 */
import { controlPlaneComponents, type ControlPlaneComponent } from './k8s-kinds.ts';
import { toSourcePath, type SourcePath } from './yaml-locator.ts';

export interface StaticPodFacts {
  component: ControlPlaneComponent;
  facts: Record<string, unknown>;
  toDocumentPath: (field: string) => SourcePath;
}

function componentOf(container: Record<string, unknown>): ControlPlaneComponent | undefined {
  const command = Array.isArray(container.command) ? container.command : [];
  const program = typeof command[0] === 'string' ? command[0].split('/').pop() : undefined;
  for (const candidate of [program, container.name]) {
    if (typeof candidate === 'string' && Object.hasOwn(controlPlaneComponents, candidate)) return candidate as ControlPlaneComponent;
  }
  return undefined;
}

export function staticPodFacts(document: Record<string, unknown>): StaticPodFacts | undefined {
  const spec = (document.spec ?? {}) as Record<string, unknown>;
  const containers = Array.isArray(spec.containers) ? (spec.containers as unknown[]) : [];
  for (const [index, raw] of containers.entries()) {
    if (typeof raw !== 'object' || raw === null) continue;
    const container = raw as Record<string, unknown>;
    const component = componentOf(container);
    if (!component) continue;
    const flags: Record<string, string> = {};
    const origins: Record<string, SourcePath> = {};
    for (const list of ['command', 'args'] as const) {
      const items = Array.isArray(container[list]) ? (container[list] as unknown[]) : [];
      items.forEach((item, position) => {
        if (typeof item !== 'string') return;
        const match = /^--?([A-Za-z0-9][\w.-]*)(?:=(.*))?$/s.exec(item);
        if (!match?.[1]) return;
        flags[match[1]] = match[2] ?? 'true';
        origins[match[1]] = ['spec', 'containers', index, list, position];
      });
    }
    const toDocumentPath = (field: string): SourcePath => {
      const flag = /^flags\.([^.[]+)|^flags\["([^"]+)"\]/.exec(field);
      const name = flag?.[1] ?? flag?.[2];
      if (name) return origins[name] ?? ['spec', 'containers', index, 'command'];
      return field.startsWith('pod.') ? toSourcePath(field).slice(1) : [];
    };
    return { component, facts: { component, flags, pod: { metadata: document.metadata ?? {}, spec } }, toDocumentPath };
  }
  return undefined;
}
