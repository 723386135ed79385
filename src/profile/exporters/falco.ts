/**
 * Falco exporter: a rules file that alerts when the workload steps outside its learned allow-list — a program not in
 * the list starts, an outbound connection goes to a destination not learned, or a file is opened for writing outside
 * the learned paths. A list holds the programs, macros hold the workload's scope and the allowed destinations and
 * paths, three rules use them. Falco only alerts; pair it with the seccomp, AppArmor or Tetragon export to block.
 *
 * The conditions are self-contained (they do not rely on macros of Falco's default rules, which a user may not load).
 */
import { NomineError } from '../../core/errors.ts';
import { formatAddress, parseRange, type AddressRange } from '../address-range.ts';
import type { Profile } from '../profile.ts';
import { policyYaml } from './policy-yaml.ts';
import { assertExportable, learningWarnings } from './export-guard.ts';
import { policyName, policyNamespace, workloadSelector } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { hashComment, provenanceLines } from './provenance.ts';

/** Falco's filter strings are quoted; a quote, backslash or control character inside one is refused, not escaped. */
const unquotable = /["\\\u0000-\u001f\u007f]/;

function falcoString(text: string): string {
  if (unquotable.test(text)) throw new NomineError('internal', `unquotable Falco string ${JSON.stringify(text)}`);
  return `"${text}"`;
}

/** What Falco's default rules call never_true: a condition for an empty allowance. */
const neverTrue = '(evt.num = 0)';

function orChain(conditions: string[]): string {
  return conditions.length > 0 ? `(${conditions.join(' or ')})` : neverTrue;
}

function scopeCondition(profile: Profile, selector: Record<string, string>, namespace: string | undefined): string {
  const labels = Object.entries(selector);
  if (profile.kubernetes || (namespace && labels.length > 0)) {
    if (labels.length === 0) {
      throw new NomineError('invalid-input', `profile ${profile.id} has no pod labels: the Falco rules cannot be scoped to the workload's pods; give its labels as the selector`, `profile ${profile.id}`);
    }
    return [...(namespace ? [`k8s.ns.name = ${falcoString(namespace)}`] : []), ...labels.map(([key, value]) => `k8s.pod.label[${key}] = ${falcoString(value)}`)].join(' and ');
  }
  if (labels.length > 0) return labels.map(([key, value]) => `container.label[${key}] = ${falcoString(value)}`).join(' and ');
  const repository = profile.image?.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  if (repository && !unquotable.test(repository)) return `container.image.repository = ${falcoString(repository)}`;
  throw new NomineError('invalid-input', `profile ${profile.id} has neither labels nor an image name: the Falco rules cannot be scoped to the workload`, `profile ${profile.id}`);
}

/** `/var/log/app.log` exactly; `/tmp/*` a file directly in /tmp; `/var/cache/**` anything below; other globs via `glob`. */
function writeCondition(pattern: string): string {
  const slash = pattern.lastIndexOf('/');
  const parent = pattern.slice(0, slash) || '/';
  const last = pattern.slice(slash + 1);
  if (!pattern.includes('*')) return `fd.name = ${falcoString(pattern)}`;
  if (!parent.includes('*') && last === '*') return `fd.directory = ${falcoString(parent)}`;
  if (!parent.includes('*') && last === '**') return `fd.name startswith ${falcoString(parent === '/' ? '/' : `${parent}/`)}`;
  return `fd.name glob ${falcoString(pattern)}`;
}

function destinationCondition(range: AddressRange, ports: Set<string>): string {
  const address = formatAddress({ family: range.family, value: range.base });
  const full = range.prefix === (range.family === 4 ? 32 : 128);
  const where = full ? `fd.sip = ${falcoString(address)}` : `fd.snet = ${falcoString(`${address}/${range.prefix}`)}`;
  const portConditions = [...ports].sort().map((key) => {
    const [protocol, port] = key.split('/');
    return `(fd.sport = ${port} and fd.l4proto = ${protocol})`;
  });
  return `(${where} and ${orChain(portConditions)})`;
}

export const falcoExporter: PolicyExporter = {
  id: 'falco',
  description: 'Falco rules: alert on processes, outbound connections and file writes outside the learned allow-list',
  kubernetesResource: false,
  fileName: (profile) => `${policyName(profile)}.falco-rules.yaml`,
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'Falco');
    const selector = workloadSelector(profile, options.selector);
    const namespace = policyNamespace(profile, options.namespace);
    const warnings = learningWarnings(profile);
    const name = policyName(profile);
    const prefix = name.replace(/-/g, '_');
    const scope = scopeCondition(profile, selector, namespace);

    const executables = new Set<string>();
    const badExecutables: unknown[] = [];
    for (const process of profile.allow.processes) {
      if (typeof process.exe === 'string' && process.exe.length > 0 && !unquotable.test(process.exe)) executables.add(process.exe);
      else badExecutables.push(process.exe);
    }
    if (badExecutables.length > 0) warnings.push(`left out executables a Falco string cannot hold (quotes, backslashes, control characters): ${badExecutables.slice(0, 5).map((e) => JSON.stringify(e)).join(', ')}`);

    const destinations = new Map<string, { range: AddressRange; ports: Set<string> }>();
    for (const entry of profile.allow.egress) {
      const range = typeof entry.address === 'string' ? parseRange(entry.address) : undefined;
      const validPort = Number.isInteger(entry.port) && entry.port >= 1 && entry.port <= 65535;
      if (!range || !validPort || (entry.protocol !== 'tcp' && entry.protocol !== 'udp')) {
        warnings.push(`left out egress entry ${JSON.stringify(entry.address)}:${String(entry.port)}/${String(entry.protocol)}: not an address and a port`);
        continue;
      }
      const key = `${range.family}/${range.base}/${range.prefix}`;
      const destination = destinations.get(key) ?? { range, ports: new Set<string>() };
      destination.ports.add(`${entry.protocol}/${entry.port}`);
      destinations.set(key, destination);
    }
    const writeConditions = new Set<string>();
    const badWrites: unknown[] = [];
    for (const write of profile.allow.fileWrites) {
      if (typeof write.pattern === 'string' && write.pattern.startsWith('/') && !unquotable.test(write.pattern)) writeConditions.add(writeCondition(write.pattern));
      else badWrites.push(write.pattern);
    }
    if (badWrites.length > 0) warnings.push(`left out write paths a Falco string cannot hold: ${badWrites.slice(0, 5).map((e) => JSON.stringify(e)).join(', ')}`);

    const sortedDestinations = [...destinations.values()].sort((a, b) => a.range.family - b.range.family || (a.range.base < b.range.base ? -1 : a.range.base > b.range.base ? 1 : 0) || a.range.prefix - b.range.prefix);
    const context = 'container=%container.id image=%container.image.repository k8s_ns=%k8s.ns.name k8s_pod=%k8s.pod.name';
    const rules = [
      {
        list: `${prefix}_executables`,
        // Quoted items: a path with a space or a parenthesis stays one item when the list is expanded into a condition.
        items: [...executables].sort().map((exe) => falcoString(exe)),
      },
      { macro: `${prefix}_workload`, condition: `(${scope})` },
      { macro: `${prefix}_allowed_destinations`, condition: orChain(sortedDestinations.map((d) => destinationCondition(d.range, d.ports))) },
      { macro: `${prefix}_allowed_writes`, condition: orChain([...writeConditions].sort()) },
      {
        rule: `nomine ${name} unexpected process`,
        desc: `A program outside the learned allow-list of ${name} started in the workload.`,
        condition: `evt.type in (execve, execveat) and evt.dir = < and evt.arg.res = 0 and ${prefix}_workload and not proc.exepath in (${prefix}_executables)`,
        output: `nomine: program outside the learned allow-list of ${name} started (exe=%proc.exepath cmdline=%proc.cmdline parent=%proc.pname ${context})`,
        priority: 'CRITICAL',
        tags: ['nomine', 'container', 'process'],
      },
      {
        rule: `nomine ${name} unexpected outbound connection`,
        desc: `An outbound connection of ${name} to a destination it never connected to while learning (DNS on port 53 is always allowed).`,
        condition:
          `evt.type = connect and evt.dir = < and (fd.typechar = 4 or fd.typechar = 6) and (evt.rawres >= 0 or evt.res = EINPROGRESS) ` +
          `and fd.sip != "0.0.0.0" and not fd.snet = "127.0.0.0/8" and fd.sip != "::1" and fd.sport != 53 ` +
          `and ${prefix}_workload and not ${prefix}_allowed_destinations`,
        output: `nomine: outbound connection outside the learned allow-list of ${name} (connection=%fd.name proto=%fd.l4proto exe=%proc.exepath ${context})`,
        priority: 'CRITICAL',
        tags: ['nomine', 'container', 'network'],
      },
      {
        rule: `nomine ${name} unexpected file write`,
        desc: `A file of ${name} opened for writing outside the paths it wrote while learning.`,
        condition: `evt.type in (open, openat, openat2, creat) and evt.dir = < and evt.is_open_write = true and fd.typechar = f and fd.num >= 0 and ${prefix}_workload and not ${prefix}_allowed_writes`,
        output: `nomine: file written outside the learned paths of ${name} (file=%fd.name exe=%proc.exepath ${context})`,
        priority: 'WARNING',
        tags: ['nomine', 'container', 'filesystem'],
      },
    ];
    if (executables.size === 0) warnings.push('no executables were learned: every program the workload starts will alert');
    return { content: hashComment(provenanceLines(profile, 'Falco rules')) + policyYaml(rules), warnings };
  },
};
