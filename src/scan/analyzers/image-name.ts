/**
 * Image names reduced to the repository path the known-miner list uses: no registry host, no `docker.io/` or
 * `library/` prefix, no tag, no digest, lower case. `registry.example:5000/kannix/monero-miner:latest@sha256:…`
 * becomes `kannix/monero-miner`.
 */
export function imageRepository(name: string): string {
  let rest = name.trim().toLowerCase();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) rest = rest.slice(0, colon);
  const parts = rest.split('/');
  // A first component with a dot or port, or `localhost`, is a registry host (the Docker reference grammar).
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  return parts.join('/');
}
