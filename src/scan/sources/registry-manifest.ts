/**
 * Manifests: the four documents a registry may answer a pull with — Docker schema 2 manifest and manifest list,
 * OCI image manifest and index — validated with zod and told apart by media type, plus the choice of one platform
 * from a list. Schema 1 and artifacts that are not container images are refused with a message saying so.
 */
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';

export const mediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

export const manifestAccept = [mediaTypes.ociIndex, mediaTypes.dockerManifestList, mediaTypes.ociManifest, mediaTypes.dockerManifest];

const configMediaTypes = new Set<string>([mediaTypes.dockerConfig, mediaTypes.ociConfig]);

/** Layer media types whose blobs are tar streams (plain, gzip or zstd); the scanner sniffs which by magic bytes. */
const layerMediaTypes = new Set<string>([
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  // Deprecated in OCI 1.1 but still found in old Windows-free images.
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

const digestSchema = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'not a digest');

const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

const platformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
});
export type Platform = z.infer<typeof platformSchema>;

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema.extend({ platform: platformSchema.optional() })),
});
export type ImageIndex = z.infer<typeof indexSchema>;

export type ParsedManifest = { kind: 'image'; mediaType: string; manifest: ImageManifest } | { kind: 'index'; mediaType: string; index: ImageIndex };

/** Parses a manifest, trusting the body's mediaType over a generic Content-Type (some registries send text/plain). */
export function parseManifest(bytes: Buffer, contentType: string | undefined, part: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new NomineError('invalid-input', `the manifest is not valid JSON (${contentType ?? 'no content type'})`, part, { cause: error });
  }
  if (typeof json !== 'object' || json === null) throw new NomineError('invalid-input', 'the manifest is not a JSON object', part);
  const declared = (json as { mediaType?: unknown }).mediaType;
  const schemaVersion = (json as { schemaVersion?: unknown }).schemaVersion;
  if (schemaVersion === 1 || contentType?.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new NomineError('unsupported', 'Docker schema 1 manifests are not supported; push the image again with a current client', part);
  }
  const mediaType =
    typeof declared === 'string'
      ? declared
      : contentType && manifestAccept.includes(contentType as (typeof manifestAccept)[number])
        ? contentType
        : 'manifests' in json
          ? mediaTypes.ociIndex
          : mediaTypes.ociManifest;

  if (mediaType === mediaTypes.ociIndex || mediaType === mediaTypes.dockerManifestList) {
    const result = indexSchema.safeParse(json);
    if (!result.success) throw new NomineError('invalid-input', `the image index is malformed: ${z.prettifyError(result.error)}`, part);
    return { kind: 'index', mediaType, index: result.data };
  }
  if (mediaType === mediaTypes.ociManifest || mediaType === mediaTypes.dockerManifest) {
    const result = imageManifestSchema.safeParse(json);
    if (!result.success) throw new NomineError('invalid-input', `the manifest is malformed: ${z.prettifyError(result.error)}`, part);
    return { kind: 'image', mediaType, manifest: result.data };
  }
  throw new NomineError('invalid-input', `the manifest media type "${mediaType}" is not an image manifest or index`, part);
}

/** Refuses artifacts (Helm charts, signatures, SBOMs) that reuse the manifest format but are not container images. */
export function assertContainerImage(manifest: ImageManifest, part: string): void {
  if (!configMediaTypes.has(manifest.config.mediaType)) {
    throw new NomineError('invalid-input', `not a container image: its config has media type "${manifest.config.mediaType}"`, part);
  }
  for (const layer of manifest.layers) {
    if (!layerMediaTypes.has(layer.mediaType)) {
      throw new NomineError('invalid-input', `layer ${layer.digest} has media type "${layer.mediaType}", not a tar layer nomine can read`, part);
    }
  }
}

export function parsePlatform(text: string | undefined): Platform {
  const [os = '', architecture = '', variant] = (text ?? 'linux/amd64').split('/');
  if (!os || !architecture) throw new NomineError('invalid-input', `platform "${text}" is not os/arch[/variant]`, 'option platform');
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

// What Docker assumes when a list entry omits the variant (containerd's platforms.Normalize).
const defaultVariants: Record<string, string> = { arm64: 'v8', arm: 'v7' };

/**
 * Chooses the entry for `wanted`. Attestation manifests (platform unknown/unknown) never match. Without a wanted
 * variant, an entry with the architecture's default variant (or none) wins over the others.
 */
export function selectPlatform(index: ImageIndex, wanted: Platform, part: string): ImageIndex['manifests'][number] {
  const images = index.manifests.filter((entry) => entry.platform && entry.platform.os !== 'unknown' && entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  const sameArch = images.filter((entry) => entry.platform?.os === wanted.os && entry.platform.architecture === wanted.architecture);
  const variantOf = (entry: (typeof sameArch)[number]) => entry.platform?.variant ?? defaultVariants[wanted.architecture];
  const match = wanted.variant
    ? sameArch.find((entry) => variantOf(entry) === wanted.variant)
    : (sameArch.find((entry) => variantOf(entry) === defaultVariants[wanted.architecture]) ?? sameArch[0]);
  if (match) return match;
  const available = images.map((entry) => formatPlatform(entry.platform as Platform));
  throw new NomineError(
    'not-found',
    `no image for platform ${formatPlatform(wanted)} in this index; it has ${available.length ? available.join(', ') : 'no platform-specific images'} (choose one with the platform option)`,
    part,
  );
}
