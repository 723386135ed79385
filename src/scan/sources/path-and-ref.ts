/**
 * Path and reference: splits `PATH[:REF]` the way skopeo does for oci:, oci-archive: and docker-archive:, where
 * PATH may itself contain colons. The longest prefix that exists on disk is the path; the rest is the reference.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface PathAndRef {
  path: string;
  ref?: string;
}

export async function splitPathAndRef(spec: string): Promise<PathAndRef> {
  if (await exists(spec)) return { path: resolve(spec) };
  for (let at = spec.lastIndexOf(':'); at > 0; at = spec.lastIndexOf(':', at - 1)) {
    const candidate = spec.slice(0, at);
    if (await exists(candidate)) return { path: resolve(candidate), ref: spec.slice(at + 1) || undefined };
  }
  // Nothing exists: report the whole spec as the missing path, which is the clearer message.
  return { path: resolve(spec) };
}

async function exists(path: string): Promise<boolean> {
  if (path === '') return false;
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
