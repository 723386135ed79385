/** The policy formats `nomine profile export --format` writes, as a literal map: its keys type the flag and its help. */
import { NomineError } from '../../core/errors.ts';
import { apparmorExporter } from './apparmor.ts';
import { falcoExporter } from './falco.ts';
import { kubeArmorExporter } from './kubearmor.ts';
import { networkPolicyExporter } from './network-policy.ts';
import type { PolicyExporter } from './policy-exporter.ts';
import { seccompExporter } from './seccomp.ts';
import { tetragonExporter } from './tetragon.ts';

export const exporters = {
  seccomp: seccompExporter,
  networkpolicy: networkPolicyExporter,
  apparmor: apparmorExporter,
  kubearmor: kubeArmorExporter,
  tetragon: tetragonExporter,
  falco: falcoExporter,
} satisfies Record<string, PolicyExporter>;

export type PolicyFormat = keyof typeof exporters;
export const policyFormats = Object.keys(exporters) as PolicyFormat[];

export function isPolicyFormat(value: string): value is PolicyFormat {
  return Object.hasOwn(exporters, value);
}

/** The exporter for a format a user typed; an unknown one is an error listing the known ones. */
export function exporterFor(format: string): PolicyExporter {
  if (isPolicyFormat(format)) return exporters[format];
  throw new NomineError('invalid-input', `unknown policy format ${JSON.stringify(format)}; known formats: ${policyFormats.join(', ')}`, 'format');
}
