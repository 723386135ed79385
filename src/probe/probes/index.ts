/**
 * The probes, as a literal map in the order they run: service probes first (each recognises its own service and
 * later ones see what was recognised), the TLS probe last, since it judges transport for the services found.
 */
import { dockerApiProbe } from './docker-api.ts';
import { etcdProbe } from './etcd.ts';
import { kubeApiProbe } from './kube-api.ts';
import { kubeletProbe } from './kubelet.ts';
import { registryProbe } from './registry.ts';
import { tlsProbe } from './tls.ts';
import { webConsoleProbe } from './web-console.ts';

export const probes = {
  'docker-api': dockerApiProbe,
  registry: registryProbe,
  'kube-api': kubeApiProbe,
  kubelet: kubeletProbe,
  etcd: etcdProbe,
  'web-console': webConsoleProbe,
  tls: tlsProbe,
} as const;
export type ProbeId = keyof typeof probes;
