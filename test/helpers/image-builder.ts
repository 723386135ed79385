/**
 * Image builder: makes test images without a network — layer tarballs from a short spec (files, directories,
 * links, whiteouts), OCI layouts and archives and docker save archives shaped as real tools write them (skopeo
 * accepts them), a busybox root file system, and `docker import` of a root FS into the local engine.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { compress as zstdCompress } from 'zstd-napi';

const run = promisify(execFile);

export interface LayerSpec {
  files?: { path: string; content: Buffer | string; mode?: number }[];
  dirs?: (string | { path: string; mode?: number })[];
  symlinks?: { path: string; target: string }[];
  hardlinks?: { path: string; target: string }[];
  /** Paths a lower layer had and this one deletes: written as `dir/.wh.name`. */
  whiteouts?: string[];
  /** Directories whose lower contents this layer hides: written as `dir/.wh..wh..opq`. */
  opaqueDirs?: string[];
}

export type Compression = 'none' | 'gzip' | 'zstd';

export interface BuiltLayer {
  blob: Buffer;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** sha256 of the blob as stored. */
  digest: string;
  mediaType: string;
  size: number;
}

const fixedTime = new Date('2024-01-01T00:00:00Z');

/** The uncompressed tar of a layer, or compressed with `compression`. */
export async function buildLayer(spec: LayerSpec, options: { compression?: Compression } = {}): Promise<Buffer> {
  return (await makeLayer(spec, options.compression)).blob;
}

export function layerStream(spec: LayerSpec): Readable {
  const pack = tar.pack();
  const add = (header: Partial<tar.Header> & { name: string }, content?: Buffer) => pack.entry({ mtime: fixedTime, uid: 0, gid: 0, ...header }, content ?? Buffer.alloc(0));
  for (const dir of spec.dirs ?? []) {
    const { path, mode } = typeof dir === 'string' ? { path: dir, mode: 0o755 } : dir;
    add({ name: path, type: 'directory', mode: mode ?? 0o755 });
  }
  for (const file of spec.files ?? []) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    add({ name: file.path, type: 'file', mode: file.mode ?? 0o644, size: content.length }, content);
  }
  for (const link of spec.symlinks ?? []) add({ name: link.path, type: 'symlink', mode: 0o777, linkname: link.target });
  for (const link of spec.hardlinks ?? []) add({ name: link.path, type: 'link', mode: 0o644, linkname: link.target });
  for (const path of spec.whiteouts ?? []) add({ name: join(dirname(path), `.wh.${path.split('/').pop()}`), type: 'file', mode: 0o644, size: 0 });
  for (const dir of spec.opaqueDirs ?? []) add({ name: join(dir, '.wh..wh..opq'), type: 'file', mode: 0o644, size: 0 });
  pack.finalize();
  return Readable.from(pack, { objectMode: false });
}

export async function makeLayer(spec: LayerSpec | BuiltLayer, compression: Compression = 'none'): Promise<BuiltLayer> {
  if ('blob' in spec) return spec;
  const chunks: Buffer[] = [];
  for await (const chunk of layerStream(spec)) chunks.push(chunk as Buffer);
  const tarBytes = Buffer.concat(chunks);
  const blob = compression === 'gzip' ? gzipSync(tarBytes) : compression === 'zstd' ? Buffer.from(await zstdCompress(tarBytes)) : tarBytes;
  const mediaType =
    compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : compression === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar';
  return { blob, diffId: sha256(tarBytes), digest: sha256(blob), mediaType, size: blob.length };
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface ImageSpec {
  layers: (LayerSpec | BuiltLayer)[];
  /** Merged over a minimal linux/amd64 config; rootfs is always derived from the layers. */
  config?: Record<string, unknown>;
  compression?: Compression;
}

export interface OciSpec extends ImageSpec {
  refName?: string;
  /** `os/arch[/variant]`, default linux/amd64. */
  platform?: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

/** The JSON documents and blobs of an image, before they are laid out in any format. */
export async function buildImage(spec: OciSpec): Promise<BuiltImage> {
  const layers = await Promise.all(spec.layers.map((layer) => makeLayer(layer, spec.compression)));
  const [os = 'linux', architecture = 'amd64', variant] = (spec.platform ?? 'linux/amd64').split('/');
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      os,
      ...(variant ? { variant } : {}),
      created: fixedTime.toISOString(),
      config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      history: layers.map((_, i) => ({ created: fixedTime.toISOString(), created_by: `layer ${i}` })),
      ...spec.config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { layers, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

interface FileToWrite {
  name: string;
  content: Buffer;
}

function ociLayoutFiles(image: BuiltImage, spec: OciSpec): FileToWrite[] {
  const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.manifestDigest,
        size: image.manifest.length,
        ...(spec.refName ? { annotations: { 'org.opencontainers.image.ref.name': spec.refName } } : {}),
      },
    ],
  };
  const files = new Map<string, Buffer>([
    ['oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}')],
    ['index.json', Buffer.from(JSON.stringify(index))],
    [blob(image.manifestDigest), image.manifest],
    [blob(image.configDigest), image.config],
  ]);
  for (const layer of image.layers) files.set(blob(layer.digest), layer.blob);
  return [...files].map(([name, content]) => ({ name, content }));
}

export async function writeFiles(dir: string, files: FileToWrite[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(dir, file.name)), { recursive: true });
    await writeFile(join(dir, file.name), file.content);
  }
}

/** A tar of `files`, with directory entries first as tools write them. */
export async function writeTar(path: string, files: (FileToWrite | { name: string; linkTarget: string })[]): Promise<void> {
  const pack = tar.pack();
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime: fixedTime });
      }
    }
    if ('linkTarget' in file) pack.entry({ name: file.name, type: 'symlink', linkname: file.linkTarget, mtime: fixedTime });
    else pack.entry({ name: file.name, size: file.content.length, mode: 0o644, mtime: fixedTime }, file.content);
  }
  pack.finalize();
  await pipeline(Readable.from(pack, { objectMode: false }), createWriteStream(path));
}

export async function writeOciLayout(dir: string, spec: OciSpec): Promise<BuiltImage> {
  const image = await buildImage(spec);
  await writeFiles(dir, ociLayoutFiles(image, spec));
  return image;
}

export async function writeOciArchive(path: string, spec: OciSpec): Promise<BuiltImage> {
  const image = await buildImage(spec);
  await writeTar(path, ociLayoutFiles(image, spec));
  return image;
}

export interface DockerArchiveSpec extends ImageSpec {
  repoTags?: string[];
  /** legacy: `<id>/layer.tar` + `<id>.json` (docker ≤ 24); oci: blobs/sha256 + index.json + manifest.json (docker 25+). */
  format?: 'legacy' | 'oci';
}

export async function writeDockerArchive(path: string, spec: DockerArchiveSpec): Promise<BuiltImage> {
  // docker save always writes uncompressed layers.
  const image = await buildImage({ ...spec, compression: 'none' });
  const hex = (digest: string) => digest.slice('sha256:'.length);
  const files: FileToWrite[] = [];
  let manifestEntry: { Config: string; RepoTags: string[] | null; Layers: string[] };
  if (spec.format === 'oci') {
    const layout = ociLayoutFiles(image, { ...spec, refName: spec.repoTags?.[0] });
    files.push(...layout.filter((f) => f.name.startsWith('blobs/')), ...layout.filter((f) => !f.name.startsWith('blobs/')));
    manifestEntry = {
      Config: `blobs/sha256/${hex(image.configDigest)}`,
      RepoTags: spec.repoTags ?? null,
      Layers: image.layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
    };
  } else {
    // Legacy ids chain like docker's v1 ids: each derived from the layer and its parent.
    let parent: string | undefined;
    const layerPaths: string[] = [];
    for (const layer of image.layers) {
      const id = hex(sha256(`${parent ?? ''}:${layer.diffId}`));
      files.push(
        { name: `${id}/VERSION`, content: Buffer.from('1.0') },
        { name: `${id}/json`, content: Buffer.from(JSON.stringify({ id, ...(parent ? { parent } : {}), created: fixedTime.toISOString() })) },
        { name: `${id}/layer.tar`, content: layer.blob },
      );
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    }
    files.sort((a, b) => (a.name < b.name ? -1 : 1)); // docker tars its staging directory in lexical order
    files.push({ name: `${hex(image.configDigest)}.json`, content: image.config });
    manifestEntry = { Config: `${hex(image.configDigest)}.json`, RepoTags: spec.repoTags ?? null, Layers: layerPaths };
    const repositories: Record<string, Record<string, string>> = {};
    for (const tag of spec.repoTags ?? []) {
      const at = tag.lastIndexOf(':');
      (repositories[tag.slice(0, at)] ??= {})[tag.slice(at + 1)] = hex(parent ?? '');
    }
    if (spec.repoTags?.length) files.push({ name: 'repositories', content: Buffer.from(JSON.stringify(repositories)) });
  }
  files.push({ name: 'manifest.json', content: Buffer.from(JSON.stringify([manifestEntry])) });
  await writeTar(path, files);
  return image;
}

/** Applets linked in the busybox root FS. */
export const busyboxApplets = ['sh', 'ls', 'cat', 'echo', 'sleep', 'ps', 'wget', 'id', 'env', 'true', 'false'];

/** A minimal root FS: /bin/busybox (static) and symlinks for common applets, plus the usual empty directories. */
export async function busyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  for (const empty of ['etc', 'tmp', 'proc', 'sys', 'dev', 'root']) await mkdir(join(dir, empty), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  for (const applet of busyboxApplets) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

/** Tars a directory (numeric owner root) for `docker import`. */
export async function tarDirectory(dir: string, tarPath: string): Promise<void> {
  await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', tarPath, '.']);
}

export interface ImportOptions {
  cmd?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
}

/** `docker import` of a root FS tarball; returns the image id. */
export async function dockerImport(tarPath: string, name: string, options: ImportOptions = {}): Promise<string> {
  const changes: string[] = [];
  if (options.cmd) changes.push(`CMD ${JSON.stringify(options.cmd)}`);
  if (options.entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(options.entrypoint)}`);
  for (const [key, value] of Object.entries(options.env ?? {})) changes.push(`ENV ${key}=${value}`);
  const { stdout } = await run('docker', ['import', ...changes.flatMap((c) => ['--change', c]), tarPath, name]);
  return stdout.trim();
}

export async function removeImage(name: string): Promise<void> {
  await run('docker', ['rmi', '--force', name]).catch(() => undefined);
}

/** Whether a Docker engine answers on the default socket; tests that need one skip with this as the reason. */
export async function dockerUnavailable(socket = '/var/run/docker.sock'): Promise<string | false> {
  try {
    await run('docker', ['-H', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}']);
    return false;
  } catch {
    return `no Docker engine at ${socket}`;
  }
}

/** Names of a tar's entries, in order (to assert on layers a source delivered). */
export async function listTarEntries(bytes: Buffer): Promise<string[]> {
  const extract = tar.extract();
  const names: string[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extract.end(bytes);
  await done;
  return names;
}

/** Reads every layer an opened image delivers for `wanted` (all keys by default), in delivery order. */
export async function readLayerBlobs(
  image: { layers: { key: string }[]; readLayers(wanted: ReadonlySet<string>, onLayer: (layer: any, blob: Readable) => Promise<void>): Promise<void> },
  wanted: ReadonlySet<string> = new Set(image.layers.map((l) => l.key)),
): Promise<{ key: string; index: number; bytes: Buffer }[]> {
  const read: { key: string; index: number; bytes: Buffer }[] = [];
  await image.readLayers(wanted, async (layer: { key: string; index: number }, blob) => {
    const chunks: Buffer[] = [];
    for await (const chunk of blob) chunks.push(chunk as Buffer);
    read.push({ key: layer.key, index: layer.index, bytes: Buffer.concat(chunks) });
  });
  return read;
}
