/**
 * oci:DIR[:REF] — an OCI image layout directory (oci-layout, index.json, blobs/). Blobs are opened only by digest
 * (a checked `algorithm:hex`, never a path from the documents) and only when they are regular files, so a hostile
 * layout cannot make nomine read outside it; every blob is verified against its digest while it is read.
 */
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { NomineError, toNomineError } from '../../core/errors.ts';
import type { ImageSource, OpenedImage, SourceContext } from '../image-source.ts';
import { blobPath, createDigestVerifier } from './digest-verifier.ts';
import { deliverLayer } from './layer-delivery.ts';
import { resolveOciImage, type ReadBlob } from './oci-image-resolve.ts';
import { ociIndexSchema, ociLayoutFileSchema, parseDocument, type Descriptor } from './oci-manifest.ts';
import { splitPathAndRef } from './path-and-ref.ts';
import { readBounded } from './tar-walk.ts';

export function ociLayoutSource(spec: string): ImageSource {
  return {
    transport: 'oci',
    ref: spec,
    async open(context: SourceContext): Promise<OpenedImage> {
      const { path: dir, ref } = await splitPathAndRef(spec);
      const part = `oci layout ${dir}`;
      const max = context.limits.maxJsonBytes;
      const dirInfo = await lstat(dir).catch((error: unknown) => {
        throw new NomineError('not-found', `no OCI layout directory at ${dir}`, part, { cause: error });
      });
      if (!dirInfo.isDirectory()) throw new NomineError('invalid-input', 'expected an OCI layout directory', part);

      parseDocument(await readLayoutFile(dir, 'oci-layout', max, part), ociLayoutFileSchema, `${part}: oci-layout`, 'oci-layout');
      const index = parseDocument(await readLayoutFile(dir, 'index.json', max, part), ociIndexSchema, `${part}: index.json`, 'index.json');

      const readBlob: ReadBlob = async (descriptor, what) => {
        const blobPart = `${part}: blob ${descriptor.digest}`;
        const stream = (await openBlob(dir, descriptor, blobPart, what)).pipe(
          createDigestVerifier({ digest: descriptor.digest, size: descriptor.size, part: blobPart }),
        );
        return readBounded(stream, max, blobPart, what);
      };
      const image = await resolveOciImage(index, readBlob, { ref, platform: context.registry?.platform, part, maxJsonBytes: max });
      const { layers } = image;
      const blobs = new Map(layers.map((layer, i) => [layer.index, image.manifest.layers[i] as Descriptor]));

      return {
        ref: spec,
        names: image.names,
        digest: image.manifestDigest,
        config: image.config,
        layers,
        async readLayers(wanted, onLayer) {
          const delivered = new Set<string>();
          for (const layer of layers) {
            if (!wanted.has(layer.key) || delivered.has(layer.key)) continue;
            delivered.add(layer.key);
            context.signal?.throwIfAborted();
            const descriptor = blobs.get(layer.index) as Descriptor;
            const blobPart = `${part}: layer ${descriptor.digest}`;
            const stream = await openBlob(dir, descriptor, blobPart, 'layer');
            try {
              await deliverLayer(stream, layer, onLayer, { digest: descriptor.digest, size: descriptor.size, part: blobPart });
            } finally {
              stream.destroy();
            }
          }
        },
        close: async () => {},
      };
    },
  };
}

async function openBlob(dir: string, descriptor: Descriptor, part: string, what: string) {
  const path = join(dir, blobPath(descriptor.digest));
  const info = await lstat(path).catch((error: unknown) => {
    throw new NomineError('not-found', `${what} blob ${descriptor.digest} is missing from the layout`, part, { cause: error });
  });
  // A symlinked blob could point anywhere on the host; real tools never write one.
  if (!info.isFile()) throw new NomineError('invalid-input', `${what} blob ${descriptor.digest} is not a regular file`, part);
  if (info.size !== descriptor.size) {
    throw new NomineError('invalid-input', `${what} blob ${descriptor.digest} has ${info.size} bytes, its descriptor declares ${descriptor.size}`, part);
  }
  return createReadStream(path);
}

async function readLayoutFile(dir: string, name: string, max: number, part: string): Promise<Buffer> {
  const path = join(dir, name);
  const info = await lstat(path).catch((error: unknown) => {
    throw new NomineError('not-found', `${name} is missing: not an OCI layout`, `${part}: ${name}`, { cause: error });
  });
  if (!info.isFile()) throw new NomineError('invalid-input', `${name} is not a regular file`, `${part}: ${name}`);
  if (info.size > max) throw new NomineError('limit-exceeded', `${name} is ${info.size} bytes, more than limits.maxJsonBytes (${max})`, `${part}: ${name}`);
  try {
    return await readBounded(createReadStream(path), max, `${part}: ${name}`, name);
  } catch (error) {
    throw toNomineError(error, `${part}: ${name}`);
  }
}

