/**
 * Image sources: the port every transport implements (docker-daemon, docker-archive, oci, oci-archive, docker://,
 * rootfs). A source resolves a reference to a config plus ordered layers, then streams the layers the scanner
 * still needs, in whatever order suits its medium (a single pass over an archive, random access in a directory).
 */
import type { Readable } from 'node:stream';
import type { Limits } from '../platform/limits.ts';

/** The parts of an OCI / Docker image config that nomine reads; unknown fields are kept. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    User?: string;
    WorkingDir?: string;
    ExposedPorts?: Record<string, unknown> | null;
  } | null;
  history?: { created_by?: string; comment?: string; empty_layer?: boolean; created?: string }[];
  rootfs?: { type?: string; diff_ids?: string[] };
  [key: string]: unknown;
}

export interface LayerDescriptor {
  /** Position from the base (0) to the top. */
  index: number;
  /** Cache key: the uncompressed digest (diff_id) when known, else the blob digest, else a source-specific id. */
  key: string;
  /** Whether `key` identifies the content (a digest) and so may be cached. */
  cacheable: boolean;
  digest?: string;
  diffId?: string;
  mediaType?: string;
  /** Compressed size when the manifest declares it. */
  size?: number;
}

export interface OpenedImage {
  /** The reference as the user wrote it. */
  ref: string;
  /** Repository name and tag or digest when known (`library/redis:7`), used for the known-miner image list. */
  names: string[];
  /** Manifest or image id digest when known. */
  digest?: string;
  config: ImageConfig;
  layers: LayerDescriptor[];
  /**
   * Streams each layer whose key is in `wanted` to `onLayer`, one at a time, awaiting it before the next. The blob
   * is as stored (compressed or not); the scanner sniffs the compression. Rejects with a NomineError naming the part.
   */
  readLayers(wanted: ReadonlySet<string>, onLayer: (layer: LayerDescriptor, blob: Readable) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface SourceContext {
  limits: Limits;
  signal?: AbortSignal;
  /** Registry credentials, platform choice and TLS options, for the sources that use them. */
  registry?: RegistryOptions;
  /** Engine API socket for docker-daemon: (default /var/run/docker.sock, or DOCKER_HOST=unix://…). */
  dockerSocket?: string;
}

export interface RegistryOptions {
  username?: string;
  password?: string;
  /** `linux/amd64` by default; `os/arch[/variant]`. */
  platform?: string;
  /** Use plain HTTP (for registries on 127.0.0.1 without TLS); https is the default elsewhere. */
  insecure?: boolean;
}

export interface ImageSource {
  transport: string;
  ref: string;
  open(context: SourceContext): Promise<OpenedImage>;
}
