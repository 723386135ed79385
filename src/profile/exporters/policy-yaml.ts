/**
 * Policy YAML: how exported policies are written. No line folding (a folded Falco condition or a long path is harder
 * to read and to diff) and no anchors or aliases (`&a1`/`*a1` for a repeated list are valid YAML that some tools and
 * readers trip over); the yaml package quotes whatever needs it, so hostile strings stay data.
 */
import { stringify } from 'yaml';

export function policyYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}
