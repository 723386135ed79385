/**
 * Docker client: a thin Docker Engine API client over undici on the unix socket, for the handful of endpoints nomine
 * uses. The API version is negotiated once from `/_ping` (the lower of the engine's and ours), bodies stay streams
 * so an image export never sits in memory, and every failure is a NomineError naming the engine or the object.
 */
import { readBounded } from './read-bounded.ts';
import type { Readable } from 'node:stream';
import type { Client } from 'undici';
import { NomineError, toNomineError, type ErrorCode } from '../core/errors.ts';
import { lazyRequire } from './lazy-require.ts';

const undici = lazyRequire<typeof import('undici')>('undici');

/** Newest Engine API version this client was written against; older engines are spoken to in their own version. */
export const maxApiVersion = '1.45';
/** Oldest version whose image endpoints (`/images/{name}/json`, `/get`) have the shape we read. */
export const minApiVersion = '1.24';

export const defaultDockerSocket = '/var/run/docker.sock';

export interface DockerClientOptions {
  /** Path of the engine's unix socket; DOCKER_HOST=unix://… is honoured when absent. */
  socketPath?: string;
  /** Milliseconds the engine may take to send response headers. */
  timeoutMs?: number;
  /** Milliseconds without body data before a streamed body is abandoned. */
  idleTimeoutMs?: number;
}

export interface DockerImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Architecture?: string;
  Os?: string;
  Variant?: string;
  Config?: Record<string, unknown> | null;
  RootFS?: { Type?: string; Layers?: string[] | null };
  [key: string]: unknown;
}

export interface DockerRequest {
  method?: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  query?: Record<string, string | undefined>;
  /** What the request is about, for error messages (`image redis:7`). */
  part?: string;
  signal?: AbortSignal;
}

export interface DockerResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface DockerClient {
  readonly socketPath: string;
  /** The negotiated API version (`1.41`). */
  apiVersion(signal?: AbortSignal): Promise<string>;
  /** A request that must succeed (2xx); the body is left for the caller to consume. */
  request(request: DockerRequest): Promise<DockerResponse>;
  json<T>(request: DockerRequest): Promise<T>;
  inspectImage(name: string, signal?: AbortSignal): Promise<DockerImageInspect>;
  /** `docker save` of one image as a tar stream. */
  exportImage(name: string, signal?: AbortSignal): Promise<Readable>;
  close(): Promise<void>;
}

export function resolveDockerSocket(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return defaultDockerSocket;
}

export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** Largest JSON answer we accept from the engine; an image inspect is a few KiB. */
const maxJsonAnswerBytes = 16 * 1024 * 1024;

export function createDockerClient(options: DockerClientOptions = {}): DockerClient {
  const socketPath = resolveDockerSocket(options.socketPath);
  const enginePart = `docker engine unix://${socketPath}`;
  const client: Client = new (undici().Client)('http://localhost', {
    socketPath,
    headersTimeout: options.timeoutMs ?? 30_000,
    bodyTimeout: options.idleTimeoutMs ?? 30_000,
  });
  let negotiated: Promise<string> | undefined;

  async function send(request: DockerRequest, versioned: boolean): Promise<DockerResponse> {
    const prefix = versioned ? `/v${await apiVersion(request.signal)}` : '';
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) search.set(key, value);
    const query = search.size > 0 ? `?${search}` : '';
    let response;
    try {
      response = await client.request({
        method: request.method ?? 'GET',
        path: `${prefix}${request.path}${query}`,
        signal: request.signal,
      });
    } catch (error) {
      const normalised = toNomineError(error, request.part ?? enginePart);
      // A missing socket is the engine being unreachable, not a missing image.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || normalised.code === 'internal') {
        throw new NomineError('unreachable', `cannot reach the Docker engine at ${socketPath}: ${normalised.message}`, enginePart, { cause: error });
      }
      throw normalised;
    }
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    }
    const text = await readCapped(response.body, 64 * 1024).catch(() => '');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // Not every error body is JSON (proxies, old engines); the raw text is still useful.
    }
    throw new NomineError(codeForStatus(response.statusCode), `Docker engine answered ${response.statusCode}: ${message || 'no message'}`, request.part ?? enginePart);
  }

  function apiVersion(signal?: AbortSignal): Promise<string> {
    negotiated ??= (async () => {
      const response = await send({ path: '/_ping', part: enginePart, signal }, false);
      await readCapped(response.body, 1024);
      const header = response.headers['api-version'];
      const engineVersion = Array.isArray(header) ? header[0] : header;
      if (!engineVersion) return minApiVersion;
      if (compareApiVersions(engineVersion, minApiVersion) < 0) {
        throw new NomineError('unsupported', `Docker Engine API ${engineVersion} is older than ${minApiVersion}, the oldest nomine speaks`, enginePart);
      }
      return compareApiVersions(engineVersion, maxApiVersion) < 0 ? engineVersion : maxApiVersion;
    })();
    negotiated.catch(() => {
      negotiated = undefined; // let a later call retry once the engine is up
    });
    return negotiated;
  }

  async function json<T>(request: DockerRequest): Promise<T> {
    const response = await send(request, true);
    const text = await readCapped(response.body, maxJsonAnswerBytes, request.part ?? enginePart);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new NomineError('invalid-input', 'Docker engine answered with invalid JSON', request.part ?? enginePart, { cause: error });
    }
  }

  return {
    socketPath,
    apiVersion,
    request: (request) => send(request, true),
    json,
    inspectImage: (name, signal) =>
      json<DockerImageInspect>({ path: `/images/${encodeURIComponent(name)}/json`, part: `image ${name}`, signal }),
    exportImage: async (name, signal) =>
      (await send({ path: `/images/${encodeURIComponent(name)}/get`, part: `image ${name}`, signal }, true)).body,
    close: () => client.close(),
  };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'invalid-input';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 501) return 'unsupported';
  return status >= 500 ? 'unreachable' : 'internal';
}

async function readCapped(body: Readable, maxBytes: number, part?: string): Promise<string> {
  const bytes = await readBounded(body, maxBytes, () => new NomineError('limit-exceeded', `Docker engine answer is larger than ${maxBytes} bytes`, part));
  return bytes.toString('utf8');
}
