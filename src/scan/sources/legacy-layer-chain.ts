/**
 * Legacy layer chain: in the legacy `docker save` layout each layer lives in `<v1id>/`, where v1id is a hash we
 * cannot recompute, and directories come in the lexical order of those ids, not in layer order. Each `<v1id>/json`
 * (which tar sorts before its `layer.tar`) names its parent, so a layer's position is the length of its parent
 * chain — known as soon as every ancestor's json has gone by, unknown (for now) otherwise.
 */
export class LegacyLayerChain {
  private readonly parents = new Map<string, string | null>();

  record(id: string, json: unknown): void {
    const parent = typeof json === 'object' && json !== null ? (json as { parent?: unknown }).parent : undefined;
    this.parents.set(id, typeof parent === 'string' && parent !== '' ? parent : null);
  }

  /** Position from the base (0), or undefined while an ancestor has not been seen (or the chain loops). */
  positionOf(id: string): number | undefined {
    let depth = 0;
    let current: string | null | undefined = id;
    const visited = new Set<string>();
    while (current) {
      if (visited.has(current)) return undefined;
      visited.add(current);
      const parent = this.parents.get(current);
      if (parent === undefined) return undefined;
      if (parent === null) return depth;
      depth += 1;
      current = parent;
    }
    return undefined;
  }
}

const legacyEntryPattern = /^([a-f0-9]{64})\/(json|layer\.tar)$/;

/** `{ id, kind }` for `<v1id>/json` and `<v1id>/layer.tar` entries. */
export function legacyEntry(name: string): { id: string; kind: 'json' | 'layer.tar' } | undefined {
  const match = legacyEntryPattern.exec(name);
  return match ? { id: match[1] as string, kind: match[2] as 'json' | 'layer.tar' } : undefined;
}
