/**
 * Kubelet configuration (KubeletConfiguration, kubelet.config.k8s.io/v1beta1, usually /var/lib/kubelet/config.yaml):
 * the document itself is the facts, so checks name the fields the Kubernetes docs name
 * (`authentication.anonymous.enabled`, `readOnlyPort`). Defaults are the v1beta1 API's, given in each check.
 */
import { toSourcePath, type SourcePath } from './yaml-locator.ts';

export function isKubeletConfig(document: Record<string, unknown>): boolean {
  return document.kind === 'KubeletConfiguration';
}

export function kubeletConfigFacts(document: Record<string, unknown>): { facts: Record<string, unknown>; toDocumentPath: (field: string) => SourcePath } {
  return { facts: document, toDocumentPath: toSourcePath };
}
