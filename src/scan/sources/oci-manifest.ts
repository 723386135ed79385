/**
 * OCI and Docker image documents: zod schemas for the index, the manifest, docker save's manifest.json and the
 * image config, and `parseDocument`, which turns untrusted bytes into one of them or a NomineError naming the file.
 * Schemas keep unknown fields (`passthrough`) so newer documents still parse; they check only what nomine reads.
 */
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';
import type { ImageConfig } from '../image-source.ts';

export const mediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const refNameAnnotation = 'org.opencontainers.image.ref.name';

/** `algorithm:hex`, restricted to the algorithms OCI registers so a digest can become a path without escaping. */
export const digestSchema = z.string().regex(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/, 'not a sha256/sha512 digest');

const sizeSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const descriptorSchema = z
  .object({
    mediaType: z.string().optional(),
    digest: digestSchema,
    size: sizeSchema,
    annotations: z.record(z.string(), z.string()).optional(),
    platform: z
      .object({ os: z.string(), architecture: z.string(), variant: z.string().optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type Descriptor = z.infer<typeof descriptorSchema>;

export const ociIndexSchema = z
  .object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(descriptorSchema) })
  .passthrough();
export type OciIndex = z.infer<typeof ociIndexSchema>;

export const ociManifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
  })
  .passthrough();
export type OciManifest = z.infer<typeof ociManifestSchema>;

/** An index or a manifest: which one a blob is shows in its fields when `mediaType` is absent. */
export const indexOrManifestSchema = z.union([ociManifestSchema, ociIndexSchema]);

export const ociLayoutFileSchema = z.object({ imageLayoutVersion: z.string() }).passthrough();

/** docker save's manifest.json: one entry per image, layers as paths inside the archive. */
export const dockerSaveManifestSchema = z.array(
  z
    .object({
      Config: z.string(),
      RepoTags: z.array(z.string()).nullish(),
      Layers: z.array(z.string()),
      LayerSources: z.record(z.string(), descriptorSchema).nullish(),
    })
    .passthrough(),
);
export type DockerSaveManifest = z.infer<typeof dockerSaveManifestSchema>;

export const imageConfigSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    config: z.object({}).passthrough().nullish(),
    rootfs: z.object({ type: z.string().optional(), diff_ids: z.array(digestSchema).optional() }).passthrough().optional(),
    history: z.array(z.object({}).passthrough()).optional(),
  })
  .passthrough();

/** Parses untrusted JSON bytes against a schema; `part` names the file or blob in the error. */
export function parseDocument<T>(bytes: Buffer, schema: z.ZodType<T>, part: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new NomineError('invalid-input', `${what} is not valid JSON: ${(error as Error).message}`, part, { cause: error });
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new NomineError('invalid-input', `${what} is malformed${at}: ${issue?.message ?? 'unexpected shape'}`, part);
  }
  return result.data;
}

export function parseImageConfig(bytes: Buffer, part: string): ImageConfig {
  return parseDocument(bytes, imageConfigSchema, part, 'image config') as ImageConfig;
}

export function isIndex(document: OciManifest | OciIndex): document is OciIndex {
  return 'manifests' in document && Array.isArray(document.manifests) && !('layers' in document);
}
