/**
 * Entry paths: turn the path a tar header declares into the path inside the image, and say when it tries to
 * leave the image root (`../../etc/passwd`, `/abs`). nomine never writes entries to disk, so an escaping path
 * cannot hurt us; it is still reported, since a runtime or an extraction tool might be fooled by it.
 */
import { posix } from 'node:path';

export interface NormalisedPath {
  path: string;
  escapes: boolean;
}

export function normaliseEntryPath(raw: string): NormalisedPath {
  const stripped = raw.replace(/^\/+/, '').replace(/^(\.\/)+/, '');
  let depth = 0;
  let escapes = false;
  const parts: string[] = [];
  for (const segment of stripped.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (depth === 0) escapes = true;
      else {
        parts.pop();
        depth -= 1;
      }
      continue;
    }
    parts.push(segment);
    depth += 1;
  }
  return { path: parts.join('/'), escapes: escapes || raw.startsWith('/') };
}

/** Whether a link target, resolved from the directory of `path`, leaves the image root. */
export function linkEscapesRoot(path: string, target: string): boolean {
  if (target.startsWith('/')) return false; // absolute targets resolve inside the container's root
  const joined = posix.join(posix.dirname(path), target);
  return joined === '..' || joined.startsWith('../');
}

export function isUnder(path: string, directory: string): boolean {
  return directory === '' || path === directory || path.startsWith(`${directory}/`);
}
