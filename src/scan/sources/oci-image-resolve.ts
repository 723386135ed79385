/**
 * OCI image resolution: from an index (index.json of a layout, or an index blob) to one image — its manifest, config
 * and names — choosing by ref annotation and then by platform (linux/amd64 unless told otherwise), following nested
 * indexes a few levels deep. Storage is abstracted as `readBlob`, so layouts on disk and in archives share this.
 */
import { NomineError } from '../../core/errors.ts';
import type { ImageConfig, LayerDescriptor } from '../image-source.ts';
import { describeLayers } from './layer-descriptors.ts';
import {
  indexOrManifestSchema,
  isIndex,
  parseDocument,
  parseImageConfig,
  refNameAnnotation,
  type Descriptor,
  type OciIndex,
  type OciManifest,
} from './oci-manifest.ts';

/** containerd and nerdctl store the full image name here and only the tag in the OCI ref annotation. */
const containerdNameAnnotation = 'io.containerd.image.name';
const maxIndexDepth = 4;

/** Reads a small blob (manifest, index, config) in full, verifying its digest and size. */
export type ReadBlob = (descriptor: Descriptor, what: string) => Promise<Buffer>;

export interface ResolvedOciImage {
  manifestDigest: string;
  manifest: OciManifest;
  config: ImageConfig;
  names: string[];
  /** The manifest's layers, keyed by the config's diff_ids, in order. */
  layers: LayerDescriptor[];
}

export interface ResolveOptions {
  ref?: string;
  /** `os/arch[/variant]`, default `linux/amd64`. */
  platform?: string;
  part: string;
  /** limits.maxJsonBytes: a manifest, index or config declaring more is refused before it is read. */
  maxJsonBytes: number;
}

export async function resolveOciImage(index: OciIndex, readSmallBlob: ReadBlob, options: ResolveOptions): Promise<ResolvedOciImage> {
  const readBlob: ReadBlob = (descriptor, what) => {
    if (descriptor.size > options.maxJsonBytes) {
      const part = `${options.part}: blob ${descriptor.digest}`;
      throw new NomineError('limit-exceeded', `${what} declares ${descriptor.size} bytes, more than limits.maxJsonBytes (${options.maxJsonBytes})`, part);
    }
    return readSmallBlob(descriptor, what);
  };
  const top = selectTopLevel(index, options);
  const names = namesOf(top);
  let descriptor = top;
  for (let depth = 0; depth <= maxIndexDepth; depth += 1) {
    const document = parseDocument(await readBlob(descriptor, 'manifest'), indexOrManifestSchema, `${options.part}: ${descriptor.digest}`, 'manifest');
    if (!isIndex(document)) {
      const config = parseImageConfig(await readBlob(document.config, 'image config'), `${options.part}: ${document.config.digest}`);
      const layers = describeLayers(
        config,
        document.layers.map((layer) => ({ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, fallbackKey: layer.digest })),
        options.part,
      );
      return { manifestDigest: descriptor.digest, manifest: document, config, names, layers };
    }
    descriptor = selectByPlatform(document.manifests, options, descriptor.digest);
  }
  throw new NomineError('invalid-input', `indexes nest more than ${maxIndexDepth} levels deep`, options.part);
}

function selectTopLevel(index: OciIndex, options: ResolveOptions): Descriptor {
  if (index.manifests.length === 0) throw new NomineError('not-found', 'the index lists no images', options.part);
  if (options.ref !== undefined) {
    const ref = options.ref;
    const matching = index.manifests.filter((m) => {
      const refName = m.annotations?.[refNameAnnotation];
      const fullName = m.annotations?.[containerdNameAnnotation];
      return refName === ref || fullName === ref || (fullName !== undefined && fullName.endsWith(`/${ref}`));
    });
    if (matching.length === 0) {
      const known = index.manifests.map((m) => m.annotations?.[refNameAnnotation]).filter(Boolean);
      throw new NomineError('not-found', `no image tagged ${ref} (tags present: ${known.join(', ') || 'none'})`, options.part);
    }
    return matching.length === 1 ? (matching[0] as Descriptor) : selectByPlatform(matching, options, 'index.json');
  }
  return index.manifests.length === 1 ? (index.manifests[0] as Descriptor) : selectByPlatform(index.manifests, options, 'index.json');
}

function selectByPlatform(manifests: Descriptor[], options: ResolveOptions, where: string): Descriptor {
  const wanted = options.platform ?? 'linux/amd64';
  const [os, architecture, variant] = wanted.split('/');
  const withPlatform = manifests.filter((m) => m.platform);
  if (withPlatform.length === 0) {
    // An index without platforms (several tags in one layout): the first entry is what skopeo and docker pick.
    const first = manifests[0];
    if (!first) throw new NomineError('not-found', `index ${where} lists no manifests`, options.part);
    return first;
  }
  const match = withPlatform.find(
    (m) => m.platform?.os === os && m.platform?.architecture === architecture && (variant === undefined || m.platform?.variant === variant),
  );
  if (!match) {
    const present = withPlatform.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'));
    throw new NomineError('not-found', `no ${wanted} image in index ${where} (platforms: ${present.join(', ')})`, options.part);
  }
  return match;
}

function namesOf(descriptor: Descriptor): string[] {
  const fullName = descriptor.annotations?.[containerdNameAnnotation];
  const refName = descriptor.annotations?.[refNameAnnotation];
  if (fullName) return [fullName];
  return refName ? [refName] : [];
}
