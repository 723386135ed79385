/**
 * `nomine profile export WORKLOAD --format F`: a learned profile as a policy the kernel or the cluster enforces
 * itself (seccomp, NetworkPolicy, AppArmor, KubeArmor, Tetragon, Falco); `--all DIR` writes every enforcing
 * workload's policies with a kustomization.yaml, ready for `kubectl apply -k DIR`.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { NomineError } from '../../core/errors.ts';
import { exporterFor, policyFormats } from '../../profile/exporters/exporters.ts';
import { exportAll } from '../../profile/exporters/export-all.ts';
import { resolveProfile, withProfileStore } from './profile.ts';

interface ExportFlags {
  format?: string;
  formats?: string;
  all?: string;
  output?: string;
  force?: boolean;
  namespace?: string;
  selector?: string[];
}

function selectorOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const selector: Record<string, string> = {};
  for (const pair of pairs) {
    const [key, ...value] = pair.split('=');
    if (!key || value.length === 0) throw new NomineError('invalid-input', `--selector takes KEY=VALUE, got "${pair}"`, 'profile export');
    selector[key] = value.join('=');
  }
  return selector;
}

export function exportCommand(): Command {
  return new Command('export')
    .description(`a learned profile as a policy others enforce: ${policyFormats.join(', ')}`)
    .argument('[workload]', 'profile id, workload, or a unique part of it (omit with --all)')
    .option('-f, --format <format>', `policy format: ${policyFormats.join(', ')}`)
    .option('--all <dir>', 'export every enforcing workload into DIR (with kustomization.yaml)')
    .option('--formats <list>', `with --all: formats to write (default: all Kubernetes ones plus seccomp)`)
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--force', 'export a profile that is still learning (its allow-list may be incomplete)')
    .option('--namespace <ns>', 'namespace for the Kubernetes objects when the profile names none')
    .option('--selector <key=value...>', 'pod labels that select the workload when the profile has none')
    .action(async (name: string | undefined, flags: ExportFlags) => {
      const selector = selectorOf(flags.selector);
      const options = { ...(flags.force ? { force: true } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}), ...(selector ? { selector } : {}) };
      await withProfileStore(async (store) => {
        if (flags.all) {
          const formats = flags.formats ? flags.formats.split(',').map((f) => f.trim()) : undefined;
          for (const format of formats ?? []) exporterFor(format);
          const profiles = [];
          for (const summary of await store.list()) profiles.push(await store.require(summary.id));
          const result = exportAll(profiles, flags.all!, { ...options, ...(formats ? { formats } : {}) });
          for (const warning of result.warnings) process.stderr.write(`nomine profile export: ${warning}\n`);
          process.stdout.write(`wrote ${result.files.length} files to ${flags.all} (kubectl apply -k ${flags.all})\n`);
          return;
        }
        if (!name) throw new NomineError('invalid-input', 'name a workload, or use --all DIR', 'profile export');
        if (!flags.format) throw new NomineError('invalid-input', `--format is required: ${policyFormats.join(', ')}`, 'profile export');
        const exporter = exporterFor(flags.format);
        const profile = await store.require((await resolveProfile(store, name)).id);
        const result = exporter.export(profile, options);
        for (const warning of result.warnings) process.stderr.write(`nomine profile export: ${warning}\n`);
        if (flags.output) writeFileSync(flags.output, result.content);
        else process.stdout.write(result.content);
      });
    });
}
