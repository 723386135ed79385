/**
 * Transports: the skopeo-style `TRANSPORT:REFERENCE` syntax people already know, as a literal map from transport
 * name to source factory, so the help text and the parser cannot drift apart.
 */
import { NomineError } from '../../core/errors.ts';
import type { ImageSource } from '../image-source.ts';
import { dockerArchiveSource } from './docker-archive.ts';
import { dockerDaemonSource } from './docker-engine.ts';
import { ociArchiveSource } from './oci-archive.ts';
import { ociLayoutSource } from './oci-layout.ts';
import { registrySource } from './registry.ts';
import { rootfsDirSource } from './rootfs-dir.ts';

export const transports = {
  'docker-daemon': { factory: dockerDaemonSource, syntax: 'docker-daemon:NAME[:TAG]' },
  'docker-archive': { factory: dockerArchiveSource, syntax: 'docker-archive:PATH' },
  oci: { factory: ociLayoutSource, syntax: 'oci:DIR[:REF]' },
  'oci-archive': { factory: ociArchiveSource, syntax: 'oci-archive:PATH[:REF]' },
  docker: { factory: registrySource, syntax: 'docker://HOST[:PORT]/REPO[:TAG|@DIGEST]' },
  rootfs: { factory: rootfsDirSource, syntax: 'rootfs:DIR' },
} satisfies Record<string, { factory: (reference: string) => ImageSource; syntax: string }>;

export type Transport = keyof typeof transports;

export function parseImageReference(text: string): ImageSource {
  const colon = text.indexOf(':');
  const name = colon === -1 ? '' : text.slice(0, colon);
  if (!(name in transports)) {
    const known = Object.values(transports).map((transport) => transport.syntax).join(', ');
    throw new NomineError('invalid-input', `unknown image reference "${text}": write it as one of ${known}`, 'reference');
  }
  const rest = text.slice(colon + 1);
  if (rest === '') throw new NomineError('invalid-input', `"${text}" names no image after "${name}:"`, 'reference');
  return transports[name as Transport].factory(rest);
}
