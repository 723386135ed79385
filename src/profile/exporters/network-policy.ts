/**
 * NetworkPolicy exporter: the profile's network behaviour as a Kubernetes NetworkPolicy (networking.k8s.io/v1) that
 * the cluster's network plugin enforces. The workload's pods may connect only to the destinations and ports it was
 * seen connecting to (plus DNS to kube-dns), and accept connections only on the ports it listened on. Both policy
 * types are always set, so a workload that never listened accepts nothing and one that never connected reaches
 * only DNS: a miner's pool connection has nowhere to go.
 */
import { NomineError } from '../../core/errors.ts';
import { formatAddress, parseRange, rangeContains, type AddressRange } from '../address-range.ts';
import type { Profile } from '../profile.ts';
import { policyYaml } from './policy-yaml.ts';
import { assertExportable, learningWarnings } from './export-guard.ts';
import { policyName, policyNamespace, workloadSelector } from './kubernetes-name.ts';
import type { ExportOptions, ExportResult, PolicyExporter } from './policy-exporter.ts';
import { hashComment, provenanceLines } from './provenance.ts';

interface PolicyPort {
  port: number;
  protocol: 'TCP' | 'UDP';
}

const loopback = [parseRange('127.0.0.0/8')!, parseRange('::1')!];

/** Where cluster DNS runs: kube-dns (CoreDNS keeps the label) in kube-system, whose namespace label is automatic since 1.21. */
export const clusterDnsPeer = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

function toPolicyPort(port: unknown, protocol: unknown): PolicyPort | undefined {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (protocol !== 'tcp' && protocol !== 'udp') return undefined;
  return { port, protocol: protocol === 'tcp' ? 'TCP' : 'UDP' };
}

function sortPorts(ports: PolicyPort[]): PolicyPort[] {
  const unique = new Map(ports.map((p) => [`${p.protocol}/${p.port}`, p]));
  return [...unique.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

function cidrOf(range: AddressRange): string {
  return `${formatAddress({ family: range.family, value: range.base })}/${range.prefix}`;
}

function compareRanges(a: AddressRange, b: AddressRange): number {
  return a.family - b.family || (a.base < b.base ? -1 : a.base > b.base ? 1 : 0) || a.prefix - b.prefix;
}

export const networkPolicyExporter: PolicyExporter = {
  id: 'networkpolicy',
  description: 'Kubernetes NetworkPolicy: egress to the learned destinations and DNS, ingress on the learned listening ports',
  kubernetesResource: true,
  fileName: (profile) => `${policyName(profile)}.networkpolicy.yaml`,
  export(profile: Profile, options: ExportOptions): ExportResult {
    assertExportable(profile, options, 'NetworkPolicy');
    const selector = workloadSelector(profile, options.selector);
    if (Object.keys(selector).length === 0) {
      throw new NomineError(
        'invalid-input',
        `profile ${profile.id} has no labels that select its pods, and an empty podSelector would apply the policy to every pod in the namespace; give the workload's labels as the selector`,
        `profile ${profile.id}`,
      );
    }
    const namespace = policyNamespace(profile, options.namespace);
    const warnings = learningWarnings(profile);
    if (namespace === undefined) warnings.push('the profile names no namespace: the policy lands in the namespace kubectl (or kustomize) applies it to');

    const byDestination = new Map<string, { range: AddressRange; ports: PolicyPort[] }>();
    const skipped: string[] = [];
    let loopbackCount = 0;
    for (const entry of profile.allow.egress) {
      const range = typeof entry.address === 'string' ? parseRange(entry.address) : undefined;
      const port = toPolicyPort(entry.port, entry.protocol);
      if (!range || !port) {
        skipped.push(`${JSON.stringify(entry.address)}:${String(entry.port)}/${String(entry.protocol)}`);
        continue;
      }
      if (loopback.some((block) => block.family === range.family && block.prefix <= range.prefix && rangeContains(block, { family: range.family, value: range.base }))) {
        loopbackCount++; // traffic inside the pod never meets a NetworkPolicy
        continue;
      }
      const cidr = cidrOf(range);
      const destination = byDestination.get(cidr) ?? { range, ports: [] };
      destination.ports.push(port);
      byDestination.set(cidr, destination);
    }
    if (skipped.length > 0) warnings.push(`left out egress entries that are not an address and a port: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ` (${skipped.length} in all)` : ''}`);
    if (loopbackCount > 0) warnings.push(`${loopbackCount} loopback destination(s) need no rule: traffic inside the pod is not subject to NetworkPolicy`);

    const ingressPorts: PolicyPort[] = [];
    for (const entry of profile.allow.listen) {
      const port = toPolicyPort(entry.port, entry.protocol);
      if (port) ingressPorts.push(port);
      else warnings.push(`left out listening entry ${String(entry.port)}/${String(entry.protocol)}: not a port`);
    }

    const destinations = [...byDestination.values()].sort((a, b) => compareRanges(a.range, b.range));
    const name = policyName(profile);
    const document = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name,
        ...(namespace ? { namespace } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'nomine' },
        annotations: { 'nomine.io/profile': profile.id, 'nomine.io/workload': profile.key.workload, 'nomine.io/revision': String(profile.revision) },
      },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: ingressPorts.length > 0 ? [{ ports: sortPorts(ingressPorts) }] : [],
        egress: [
          { to: [clusterDnsPeer], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
          ...destinations.map((destination) => ({ to: [{ ipBlock: { cidr: cidrOf(destination.range) } }], ports: sortPorts(destination.ports) })),
        ],
      },
    };
    const content = hashComment(provenanceLines(profile, 'NetworkPolicy')) + policyYaml(document);
    return { content, warnings };
  },
};
