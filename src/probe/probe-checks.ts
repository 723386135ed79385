/**
 * Probe checks: what `nomine probe` judges an endpoint on, as a literal map so the ids type every result and the
 * reporters find title, severity and fix in one place. Ids say what they check (`registry.push.anonymous`).
 */
import type { Severity } from '../core/severity.ts';

export interface ProbeCheck {
  title: string;
  severity: Severity;
  remediation: string;
}

export const probeChecks = {
  'docker.api.unauthenticated': {
    title: 'Docker Engine API answers without TLS client authentication',
    severity: 'critical',
    remediation: 'Do not expose the Docker socket over TCP; if remote access is needed, use --tlsverify with client certificates on 2376 (CIS Docker 2.6) or SSH (DOCKER_HOST=ssh://).',
  },
  'registry.catalog.anonymous': {
    title: 'Registry catalog readable without credentials',
    severity: 'medium',
    remediation: 'Enable authentication on the registry (htpasswd or token auth) so anonymous clients cannot list repositories.',
  },
  'registry.push.anonymous': {
    title: 'Registry accepts pushes without credentials',
    severity: 'critical',
    remediation: 'Enable authentication (auth: htpasswd or token) and grant push only to CI identities; anyone could otherwise replace images with miners.',
  },
  'registry.credentials.default': {
    title: 'Registry accepts a default or weak password',
    severity: 'critical',
    remediation: 'Change the password to a long random secret (htpasswd -B) and rotate any token issued with the old one.',
  },
  'kube.api.anonymous': {
    title: 'Kubernetes API server lets anonymous users list pods, secrets or nodes',
    severity: 'critical',
    remediation: 'Remove RBAC bindings to system:anonymous / system:unauthenticated, or start kube-apiserver with --anonymous-auth=false (CIS Kubernetes 1.2.1).',
  },
  'kube.api.insecure-port': {
    title: 'Kubernetes API served on an insecure (plain HTTP, unauthenticated) port',
    severity: 'critical',
    remediation: 'Set --insecure-port=0 (removed in 1.20+) and serve the API only on the secure port with authentication (CIS Kubernetes 1.2.19).',
  },
  'kubelet.read-only-port': {
    title: 'Kubelet read-only port (10255) is open',
    severity: 'high',
    remediation: 'Set readOnlyPort: 0 in the kubelet configuration (--read-only-port=0, CIS Kubernetes 4.2.4).',
  },
  'kubelet.anonymous': {
    title: 'Kubelet API answers without authentication',
    severity: 'critical',
    remediation: 'Set authentication.anonymous.enabled: false and authorization.mode: Webhook in the kubelet configuration (CIS Kubernetes 4.2.1, 4.2.2).',
  },
  'etcd.unauthenticated': {
    title: 'etcd answers without client certificates or authentication',
    severity: 'critical',
    remediation: 'Serve etcd on TLS with --client-cert-auth=true and --trusted-ca-file (CIS Kubernetes 2.2), and keep it off networks other than the control plane.',
  },
  'web-console.default-credentials': {
    title: 'Web console accepts a default password',
    severity: 'critical',
    remediation: 'Change the administrator password now, and do not expose management consoles beyond an administration network.',
  },
  'web-console.login-skippable': {
    title: 'Kubernetes Dashboard lets users skip login',
    severity: 'high',
    remediation: 'Remove --enable-skip-login from the dashboard arguments and give its service account no more than read access.',
  },
  'tls.plain-http': {
    title: 'Service that carries credentials or control answers over plain HTTP',
    severity: 'medium',
    remediation: 'Serve it over TLS (HTTPS) only; plain HTTP exposes passwords and tokens to anyone on the path.',
  },
  'tls.self-signed': {
    title: 'TLS certificate is self-signed',
    severity: 'low',
    remediation: 'Use a certificate issued by a CA the clients trust (an internal CA is fine) so clients can verify the server instead of skipping verification.',
  },
  'tls.expired': {
    title: 'TLS certificate has expired or is not yet valid',
    severity: 'high',
    remediation: 'Renew the certificate and automate renewal (cert-manager, kubeadm certs renew).',
  },
} as const satisfies Record<string, ProbeCheck>;

export type ProbeCheckId = keyof typeof probeChecks;
