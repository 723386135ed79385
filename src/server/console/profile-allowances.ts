/**
 * The merged profile as the console shows it: every allowance with when it was first learned and on which nodes.
 * The merged document says what is allowed; each node's contribution says which nodes saw it. Pure: the caller
 * reads the rows and names the nodes.
 */
import type { AllowanceView } from '../schemas/console-schemas.ts';
import { isoOrNull } from './instant.ts';
import type { ProfileReading } from './profile-document.ts';

export interface NodeReading {
  agentId: string;
  nodeName: string;
  reading: ProfileReading;
}

type NodeRef = { agentId: string; nodeName: string };

const keys = {
  processes: (entry: { exe: string }) => entry.exe,
  egress: (entry: { address: string; port: number; protocol: string }) => `${entry.address}|${entry.port}|${entry.protocol}`,
  listen: (entry: { port: number; protocol: string }) => `${entry.port}|${entry.protocol}`,
  fileWrites: (entry: { pattern: string }) => entry.pattern,
};

export function allowanceView(merged: ProfileReading, nodes: readonly NodeReading[]): AllowanceView {
  const seenBy = <K extends keyof typeof keys>(kind: K) => {
    const index = new Map<string, { nodes: NodeRef[]; firstSeen: number | undefined }>();
    for (const node of nodes) {
      for (const entry of node.reading[kind]) {
        const key = (keys[kind] as (entry: unknown) => string)(entry);
        const known = index.get(key) ?? { nodes: [], firstSeen: undefined };
        if (!known.nodes.some((ref) => ref.agentId === node.agentId)) known.nodes.push({ agentId: node.agentId, nodeName: node.nodeName });
        if (entry.firstSeen !== undefined && (known.firstSeen === undefined || entry.firstSeen < known.firstSeen)) known.firstSeen = entry.firstSeen;
        index.set(key, known);
      }
    }
    return (entry: Parameters<(typeof keys)[K]>[0] & { source: string; firstSeen?: number | undefined }) => {
      const known = index.get((keys[kind] as (entry: unknown) => string)(entry));
      return { source: entry.source, firstSeen: isoOrNull(entry.firstSeen ?? known?.firstSeen), nodes: known?.nodes ?? [] };
    };
  };
  const byFirstSeen = <T extends { firstSeen?: number | undefined }>(list: T[]) => [...list].sort((a, b) => (a.firstSeen ?? Infinity) - (b.firstSeen ?? Infinity));

  const process = seenBy('processes');
  const egress = seenBy('egress');
  const listen = seenBy('listen');
  const fileWrite = seenBy('fileWrites');
  const syscallNodes = new Map<string, NodeRef[]>();
  for (const node of nodes) {
    for (const name of node.reading.syscalls ?? []) {
      const list = syscallNodes.get(name) ?? [];
      if (!list.some((ref) => ref.agentId === node.agentId)) list.push({ agentId: node.agentId, nodeName: node.nodeName });
      syscallNodes.set(name, list);
    }
  }
  return {
    processes: byFirstSeen(merged.processes).map((entry) => ({ exe: entry.exe, sha256: entry.sha256, parents: entry.parents, ...process(entry) })),
    egress: byFirstSeen(merged.egress).map((entry) => ({ address: entry.address, port: entry.port, protocol: entry.protocol, ...egress(entry) })),
    listen: byFirstSeen(merged.listen).map((entry) => ({ port: entry.port, protocol: entry.protocol, ...listen(entry) })),
    fileWrites: byFirstSeen(merged.fileWrites).map((entry) => ({ pattern: entry.pattern, ...fileWrite(entry) })),
    syscalls: merged.syscalls === undefined ? null : [...merged.syscalls].sort().map((name) => ({ name, nodes: syscallNodes.get(name) ?? [] })),
    cpu: {
      ...merged.cpu,
      nodes: nodes.filter((node) => node.reading.cpu.samples > 0).map((node) => ({ agentId: node.agentId, nodeName: node.nodeName, quantileCores: node.reading.cpu.quantileCores, samples: node.reading.cpu.samples })),
    },
  };
}
