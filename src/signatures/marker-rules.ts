/**
 * Marker rules: one generated YARA rule per byte string an analyzer declares as a marker (the packer's `UPX!`,
 * `\0memfd_create\0` …), so the shared YARA pass answers "does this file contain it" for all of them at once.
 */
import { literalRule } from './literal-rule.ts';

export interface MarkerRules {
  source: string;
  /** Rule name by `analyzer-id:marker-name`. */
  rules: ReadonlyMap<string, string>;
}

export function buildMarkerRules(analyzers: readonly { id: string; markers?: Readonly<Record<string, Buffer>> }[]): MarkerRules {
  const rules = new Map<string, string>();
  const source: string[] = [];
  for (const analyzer of analyzers) {
    for (const [name, bytes] of Object.entries(analyzer.markers ?? {})) {
      if (bytes.length === 0) continue;
      const rule = `nomine_marker_${rules.size}`;
      rules.set(`${analyzer.id}:${name}`, rule);
      source.push(literalRule(rule, [bytes.toString('latin1')], false));
    }
  }
  return { source: source.join('\n'), rules };
}
