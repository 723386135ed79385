/**
 * Docker save selection: which image of a multi-image `docker save` manifest.json the user meant — by tag
 * (`redis:7`, `docker.io/library/redis:7` and `library/redis:7` are the same image), by `@INDEX`, or the first.
 */
import { NomineError } from '../../core/errors.ts';
import type { DockerSaveManifest } from './oci-manifest.ts';

export type SavedImage = DockerSaveManifest[number];

export function selectSavedImage(manifest: DockerSaveManifest, ref: string | undefined, part: string): SavedImage {
  if (manifest.length === 0) throw new NomineError('not-found', 'manifest.json lists no images', part);
  if (ref === undefined) return manifest[0] as SavedImage;
  if (ref.startsWith('@')) {
    const position = Number(ref.slice(1));
    const chosen = Number.isInteger(position) ? manifest[position] : undefined;
    if (!chosen) throw new NomineError('not-found', `no image at index ${ref.slice(1)} (the archive holds ${manifest.length})`, part);
    return chosen;
  }
  const wanted = normaliseTag(ref);
  const chosen = manifest.find((image) => (image.RepoTags ?? []).some((tag) => normaliseTag(tag) === wanted));
  if (!chosen) {
    const present = manifest.flatMap((image) => image.RepoTags ?? []);
    throw new NomineError('not-found', `no image tagged ${ref} (tags present: ${present.join(', ') || 'none'})`, part);
  }
  return chosen;
}

/** Docker's familiar-name rules, enough to compare tags: default registry, `library/` and `:latest` are implied. */
export function normaliseTag(tag: string): string {
  let name = tag.replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '');
  if (!name.includes('/')) name = `library/${name}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!lastSegment.includes(':') && !lastSegment.includes('@')) name = `${name}:latest`;
  return name;
}
