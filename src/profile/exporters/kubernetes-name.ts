/**
 * Kubernetes names: what the API server accepts for object names (DNS-1123 labels and subdomains), label keys
 * and label values, and how nomine derives a policy name from a profile. The rules are those of
 * k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue).
 */
import { createHash } from 'node:crypto';
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';

export const dnsLabelMaxLength = 63;
export const dnsSubdomainMaxLength = 253;
export const labelValueMaxLength = 63;
export const labelNameMaxLength = 63;

const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNamePattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function isDnsLabel(text: string): boolean {
  return text.length <= dnsLabelMaxLength && dnsLabelPattern.test(text);
}

export function isDnsSubdomain(text: string): boolean {
  return text.length > 0 && text.length <= dnsSubdomainMaxLength && text.split('.').every((part) => dnsLabelPattern.test(part));
}

/** Empty is a valid label value. */
export function isLabelValue(text: string): boolean {
  return text.length === 0 || (text.length <= labelValueMaxLength && qualifiedNamePattern.test(text));
}

/** `name` or `prefix/name`, the prefix a DNS subdomain. */
export function isLabelKey(text: string): boolean {
  const slash = text.indexOf('/');
  const prefix = slash >= 0 ? text.slice(0, slash) : undefined;
  const name = slash >= 0 ? text.slice(slash + 1) : text;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length > 0 && name.length <= labelNameMaxLength && qualifiedNamePattern.test(name);
}

/**
 * Lower-case letters, digits and single dashes, at most `maxLength` long, never starting or ending with a dash; ''
 * when nothing usable is left (a name of only symbols or non-ASCII letters).
 */
export function slugify(text: string, maxLength: number): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents split off by NFKD: `é` → `e`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, maxLength).replace(/-+$/, '');
}

/** The human part of a workload: `k8s:shop/Deployment/web` → `web`, `compose:proj/db` → `db`, `container:x` → `x`. */
function workloadShortName(profile: Profile): string {
  if (profile.kubernetes?.workloadName) return profile.kubernetes.workloadName;
  const workload = profile.key.workload;
  const afterScheme = workload.slice(workload.indexOf(':') + 1);
  return afterScheme.slice(afterScheme.lastIndexOf('/') + 1);
}

/** Up to 12 characters that tell profiles apart: the hash part of `wl-<hash>`, or a hash of the key when the id is unusable. */
function profileTag(profile: Profile): string {
  const fromId = slugify(profile.id.replace(/^wl-/, ''), 12);
  if (fromId.length >= 6) return fromId;
  return createHash('sha256').update(`${profile.key.imageDigest}\n${profile.key.workload}`).digest('hex').slice(0, 12);
}

/**
 * `nomine-<workload>-<tag>`: a DNS-1123 label (so also a valid object name, label value, AppArmor profile name and
 * file name), unique per profile through the tag, readable through the workload part.
 */
export function policyName(profile: Profile): string {
  const tag = profileTag(profile);
  const prefix = 'nomine-';
  const room = dnsLabelMaxLength - prefix.length - tag.length - 1;
  const workload = slugify(workloadShortName(profile), room);
  return workload ? `${prefix}${workload}-${tag}` : `${prefix}${tag}`;
}

/** Namespace for the profile's namespaced objects: its own, else the option, else undefined (kubectl's current one). */
export function policyNamespace(profile: Profile, optionNamespace: string | undefined): string | undefined {
  const namespace = profile.kubernetes?.namespace ?? optionNamespace;
  if (namespace === undefined || namespace === '') return undefined;
  if (!isDnsLabel(namespace)) {
    throw new NomineError('invalid-input', `namespace ${JSON.stringify(namespace)} is not a valid Kubernetes namespace (a DNS-1123 label)`, `profile ${profile.id}`);
  }
  return namespace;
}

/**
 * The labels that select the workload, each checked: a selector is copied, never repaired, since a rewritten label
 * would select nothing. Empty when the profile has none and no option gives one.
 */
export function workloadSelector(profile: Profile, optionSelector: Record<string, string> | undefined): Record<string, string> {
  const selector = Object.keys(profile.selector).length > 0 ? profile.selector : (optionSelector ?? {});
  const bad = Object.entries(selector).filter(([key, value]) => typeof value !== 'string' || !isLabelKey(key) || !isLabelValue(value));
  if (bad.length > 0) {
    const shown = bad.map(([key, value]) => `${JSON.stringify(key)}=${JSON.stringify(value)}`).join(', ');
    throw new NomineError('invalid-input', `selector labels that Kubernetes would reject: ${shown}`, `profile ${profile.id}`);
  }
  return Object.fromEntries(Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
