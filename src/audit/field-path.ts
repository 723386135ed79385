/**
 * Field paths: how a check addresses the facts. `HostConfig.Privileged`, `containers[*].securityContext`,
 * `metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]`, `Mounts[0].Source`. `[*]` fans out over the
 * elements of a list or the values of a mapping, so one path can yield many values, each with its concrete path
 * (for evidence). `@` is the value in scope itself (an element inside `every` or `some`). A missing step yields one `undefined` value at the path so far, so operators can judge absence;
 * a wildcard over a missing list yields nothing.
 */

export type PathStep = { key: string } | { index: number } | { wildcard: true };

export interface ResolvedValue {
  /** The concrete path of this value (`containers[1].securityContext.privileged`). */
  path: string;
  value: unknown;
  /** Whether the path reached an actual value (false when a step was missing). */
  present: boolean;
}

const stepPattern = /\.?([A-Za-z0-9_$@/-]+)|\[(\*|\d+|"(?:[^"\\]|\\.)*")\]/y;

export function parseFieldPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  if (path === '@') return steps; // the value in scope itself, inside `every` / `some`
  stepPattern.lastIndex = 0;
  let at = 0;
  while (at < path.length) {
    stepPattern.lastIndex = at;
    const match = stepPattern.exec(path);
    if (!match) throw new Error(`invalid field path "${path}" at offset ${at}`);
    if (match[1] !== undefined) steps.push({ key: match[1] });
    else if (match[2] === '*') steps.push({ wildcard: true });
    else if (match[2]?.startsWith('"')) steps.push({ key: JSON.parse(match[2]) as string });
    else steps.push({ index: Number(match[2]) });
    at = stepPattern.lastIndex;
  }
  return steps;
}

export function formatStep(path: string, step: { key: string } | { index: number }): string {
  if ('index' in step) return `${path}[${step.index}]`;
  const plain = /^[A-Za-z0-9_$-]+$/.test(step.key);
  if (!plain) return `${path}[${JSON.stringify(step.key)}]`;
  return path === '' ? step.key : `${path}.${step.key}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every value the path reaches from `root`, with `base` as the concrete path of `root`. */
export function resolveField(root: unknown, path: string, base = ''): ResolvedValue[] {
  const steps = parseFieldPath(path);
  let current: ResolvedValue[] = [{ path: base, value: root, present: true }];
  for (const step of steps) {
    const next: ResolvedValue[] = [];
    for (const item of current) {
      if (!item.present) {
        // Nothing to fan out over: "every capability added" of no list holds; a plain step keeps the absence.
        // The path keeps growing so evidence names the field that is missing, not its first missing ancestor.
        if (!('wildcard' in step)) next.push({ ...item, path: formatStep(item.path, step) });
        continue;
      }
      if ('wildcard' in step) {
        if (Array.isArray(item.value)) item.value.forEach((value, index) => next.push({ path: formatStep(item.path, { index }), value, present: true }));
        else if (isRecord(item.value)) for (const [key, value] of Object.entries(item.value)) next.push({ path: formatStep(item.path, { key }), value, present: true });
        // A wildcard over nothing yields nothing: "every container" of no containers holds.
        continue;
      }
      const container = item.value;
      let value: unknown;
      let present = false;
      if ('index' in step && Array.isArray(container) && step.index < container.length) {
        value = container[step.index];
        present = true;
      } else if ('key' in step && isRecord(container) && Object.hasOwn(container, step.key)) {
        value = container[step.key];
        present = value !== undefined && value !== null;
      }
      next.push({ path: formatStep(item.path, step), value: present ? value : undefined, present });
    }
    current = next;
  }
  return current;
}
