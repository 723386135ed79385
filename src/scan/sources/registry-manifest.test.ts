import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNomineError } from '../../core/errors.ts';
import { parseManifest, parsePlatform, selectPlatform, type ImageIndex } from './registry-manifest.ts';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const entry = (n: number, platform?: ImageIndex['manifests'][number]['platform'], annotations?: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digest(n),
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

describe('selectPlatform', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      entry(1, { os: 'linux', architecture: 'amd64' }),
      entry(2, { os: 'linux', architecture: 'arm', variant: 'v6' }),
      entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
      entry(4, { os: 'linux', architecture: 'arm64' }),
      entry(5, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
    ],
  };

  it('picks os/arch, preferring the default variant when none is asked for', () => {
    assert.equal(selectPlatform(index, parsePlatform(undefined), 'p').digest, digest(1));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm'), 'p').digest, digest(3));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm/v6'), 'p').digest, digest(2));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm64/v8'), 'p').digest, digest(4));
  });

  it('lists the platforms that exist, without attestations, when none matches', () => {
    assert.throws(
      () => selectPlatform(index, parsePlatform('windows/amd64'), 'manifest app:1'),
      (error) => isNomineError(error) && error.code === 'not-found' && /linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64\)?/.test(error.message) && !error.message.includes('unknown'),
    );
  });
});

describe('parseManifest', () => {
  it('tells an index from an image manifest by media type, falling back to the body shape', () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry(1, { os: 'linux', architecture: 'amd64' })] }));
    assert.equal(parseManifest(index, 'text/plain', 'p').kind, 'index');
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: entry(1), layers: [entry(2)] }));
    assert.equal(parseManifest(manifest, undefined, 'p').kind, 'image');
  });

  it('refuses unknown media types as invalid-input', () => {
    const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }));
    assert.throws(() => parseManifest(other, undefined, 'p'), (error) => isNomineError(error) && error.code === 'invalid-input');
  });
});
