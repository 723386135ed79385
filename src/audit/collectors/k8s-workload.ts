/**
 * Workload facts from one manifest document (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, …), in one
 * shape whatever the kind, so a check is written once:
 *   kind, apiVersion, metadata   the object's own
 *   pod                          the pod template: { metadata, spec }
 *   containers                   containers, then initContainers, then ephemeralContainers of the pod spec
 * Fact paths map back to the document (`containers[2]` → `spec.template.spec.initContainers[0]`) for file:line.
 */
import type { SourcePath } from './yaml-locator.ts';
import { toSourcePath } from './yaml-locator.ts';

const containerLists = ['containers', 'initContainers', 'ephemeralContainers'] as const;

export interface WorkloadFacts {
  facts: Record<string, unknown>;
  /** Translates a fact path into a path inside the source document. */
  toDocumentPath: (field: string) => SourcePath;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function workloadFacts(document: Record<string, unknown>, templatePath: readonly string[]): WorkloadFacts {
  let template: unknown = document;
  for (const step of templatePath) template = asRecord(template)[step];
  const pod = asRecord(template);
  const spec = asRecord(pod.spec);
  const containers: unknown[] = [];
  const origins: SourcePath[] = [];
  for (const list of containerLists) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, index) => {
      containers.push(item);
      origins.push([...templatePath, 'spec', list, index]);
    });
  }
  const toDocumentPath = (field: string): SourcePath => {
    const steps = toSourcePath(field);
    const [head, ...rest] = steps;
    if (head === 'pod') return [...templatePath, ...rest];
    if (head === 'containers' && typeof rest[0] === 'number') return [...(origins[rest[0]] ?? [...templatePath, 'spec', 'containers']), ...rest.slice(1)];
    return steps;
  };
  return {
    facts: { kind: document.kind, apiVersion: document.apiVersion, metadata: asRecord(document.metadata), pod: { metadata: asRecord(pod.metadata), spec }, containers },
    toDocumentPath,
  };
}
