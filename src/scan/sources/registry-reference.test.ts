import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNomineError } from '../../core/errors.ts';
import { formatImageName, parseRegistryReference, registryBaseUrl } from './registry-reference.ts';

describe('parseRegistryReference', () => {
  it('reads HOST:PORT/REPO:TAG with or without the leading slashes', () => {
    for (const input of ['//127.0.0.1:5000/team/app:1.2', '127.0.0.1:5000/team/app:1.2', 'docker://127.0.0.1:5000/team/app:1.2']) {
      assert.deepEqual(parseRegistryReference(input), { registry: '127.0.0.1:5000', endpointHost: '127.0.0.1:5000', repository: 'team/app', tag: '1.2' });
    }
  });

  it('defaults the tag to latest and keeps a digest without inventing a tag', () => {
    assert.equal(parseRegistryReference('//localhost/app').tag, 'latest');
    const digest = `sha256:${'a'.repeat(64)}`;
    const pinned = parseRegistryReference(`//localhost:5000/app@${digest}`);
    assert.equal(pinned.digest, digest);
    assert.equal(pinned.tag, undefined);
    assert.equal(formatImageName(pinned), `localhost:5000/app@${digest}`);
    assert.equal(parseRegistryReference(`//localhost:5000/app:1@${digest}`).tag, '1');
  });

  it('resolves Docker Hub short names to docker.io and library/', () => {
    assert.deepEqual(parseRegistryReference('redis'), { registry: 'docker.io', endpointHost: 'registry-1.docker.io', repository: 'library/redis', tag: 'latest' });
    assert.equal(parseRegistryReference('//bitnami/redis:7').repository, 'bitnami/redis');
    assert.equal(parseRegistryReference('//bitnami/redis:7').registry, 'docker.io');
    assert.equal(parseRegistryReference('//docker.io/redis:7').repository, 'library/redis');
    assert.equal(parseRegistryReference('index.docker.io/library/redis').registry, 'docker.io');
    assert.equal(formatImageName(parseRegistryReference('redis:7')), 'docker.io/library/redis:7');
  });

  it('treats the first component as a host only when it has a dot, a port or is localhost', () => {
    assert.equal(parseRegistryReference('//ghcr.io/org/app').registry, 'ghcr.io');
    assert.equal(parseRegistryReference('//localhost/app').registry, 'localhost');
    assert.equal(parseRegistryReference('//[::1]:5000/app:2').registry, '[::1]:5000');
    assert.equal(parseRegistryReference('//[::1]:5000/app:2').tag, '2');
    assert.equal(parseRegistryReference('//org/app').registry, 'docker.io');
  });

  it('refuses invalid names with invalid-input', () => {
    for (const input of ['', '//127.0.0.1:5000/', '//127.0.0.1:5000/App', '//host.io/app:bad tag', '//host.io/app@sha256:xyz', '//host.io/a//b']) {
      assert.throws(() => parseRegistryReference(input), (error) => isNomineError(error) && error.code === 'invalid-input', input);
    }
  });
});

describe('registryBaseUrl', () => {
  it('speaks plain HTTP to loopback registries and HTTPS elsewhere unless told otherwise', () => {
    assert.equal(registryBaseUrl('127.0.0.1:5000', false).href, 'http://127.0.0.1:5000/');
    assert.equal(registryBaseUrl('localhost', undefined).protocol, 'http:');
    assert.equal(registryBaseUrl('[::1]:5000', undefined).protocol, 'http:');
    assert.equal(registryBaseUrl('ghcr.io', undefined).protocol, 'https:');
    assert.equal(registryBaseUrl('10.0.0.5:5000', true).protocol, 'http:');
  });
});
