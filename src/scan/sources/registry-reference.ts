/**
 * Registry references: `//HOST[:PORT]/REPO[:TAG|@DIGEST]` as the docker:// transport receives it, parsed by the
 * rules the Docker CLI uses (distribution/reference), so `redis` means `docker.io/library/redis:latest` and
 * `127.0.0.1:5000/app` means repository `app` on that registry. Also decides which scheme the registry speaks.
 */
import { NomineError } from '../../core/errors.ts';

export interface RegistryReference {
  /** `HOST[:PORT]` as written (`docker.io` for Docker Hub short names); used in names and error parts. */
  registry: string;
  /** Host and port the HTTP API answers on (`registry-1.docker.io` for Docker Hub). */
  endpointHost: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const dockerHubRegistry = 'docker.io';
const dockerHubEndpoint = 'registry-1.docker.io';

// From distribution/reference: path components are lowercase alphanumerics joined by `.`, `_`, `__` or dashes.
const componentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^\w[\w.-]{0,127}$/;
const digestPattern = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const hostPattern = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d{1,5})?$/;

export function parseRegistryReference(input: string): RegistryReference {
  const invalid = (why: string) => new NomineError('invalid-input', `invalid registry reference "${input}": ${why}`, `reference ${input}`);
  let rest = input.trim().replace(/^docker:/, '').replace(/^\/\//, '');
  if (rest === '') throw invalid('it is empty');

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw invalid(`"${digest}" is not a sha256 or sha512 digest`);
  }

  // A tag follows the last colon only when no slash follows it; otherwise the colon belongs to HOST:PORT.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && colon > rest.lastIndexOf(']')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid(`"${tag}" is not a valid tag`);
  }

  const slash = rest.indexOf('/');
  const first = slash === -1 ? rest : rest.slice(0, slash);
  // Docker's rule: the first component names a registry when it has a dot or a port, or is localhost.
  const isHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let registry = dockerHubRegistry;
  let repository = rest;
  if (isHost) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!hostPattern.test(registry)) throw invalid(`"${registry}" is not a host[:port]`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = dockerHubRegistry;
  if (registry === dockerHubRegistry && !repository.includes('/')) repository = `library/${repository}`;

  if (repository === '') throw invalid('the repository is missing');
  for (const component of repository.split('/')) {
    if (!componentPattern.test(component)) throw invalid(`"${component}" is not a valid repository component (lowercase letters, digits, . _ -)`);
  }
  if (repository.length > 255) throw invalid('the repository name is longer than 255 characters');

  if (tag === undefined && digest === undefined) tag = 'latest';
  return {
    registry,
    endpointHost: registry === dockerHubRegistry ? dockerHubEndpoint : registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** `HOST/REPO:TAG` or `HOST/REPO@DIGEST`: the name reports and the known-miner image list use. */
export function formatImageName(reference: RegistryReference): string {
  const base = `${reference.registry}/${reference.repository}`;
  return reference.digest ? `${base}@${reference.digest}` : `${base}:${reference.tag ?? 'latest'}`;
}

/** What the manifest endpoint takes: the digest when pinned (immutable), else the tag. */
export function manifestReference(reference: RegistryReference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

/** Plain HTTP for loopback registries (they rarely have certificates) or when the user asks for it. */
export function registryBaseUrl(endpointHost: string, insecure: boolean | undefined): URL {
  const hostname = endpointHost.replace(/:\d+$/, '');
  const isLoopback = hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
  return new URL(`${insecure || isLoopback ? 'http' : 'https'}://${endpointHost}/`);
}
