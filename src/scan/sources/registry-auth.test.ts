import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { basicAuthorization, parseAuthChallenges, resolveCredentials } from './registry-auth.ts';

describe('parseAuthChallenges', () => {
  it('reads a Docker Hub bearer challenge', () => {
    assert.deepEqual(parseAuthChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/redis:pull' } },
    ]);
  });

  it('keeps commas and escaped quotes inside quoted values and reads unquoted ones', () => {
    const [challenge] = parseAuthChallenges('Bearer realm="https://a/token?x=1,2",error="insufficient_scope",scope="repository:a:pull,push",note="say \\"hi\\"", n=3');
    assert.equal(challenge?.params.scope, 'repository:a:pull,push');
    assert.equal(challenge?.params.realm, 'https://a/token?x=1,2');
    assert.equal(challenge?.params.note, 'say "hi"');
    assert.equal(challenge?.params.n, '3');
  });

  it('separates several challenges in one header', () => {
    const challenges = parseAuthChallenges('Basic realm="registry", Bearer realm="https://a/token",service="s"');
    assert.deepEqual(challenges.map((challenge) => challenge.scheme), ['basic', 'bearer']);
    assert.equal(challenges[1]?.params.service, 's');
  });

  it('returns nothing for a missing header', () => {
    assert.deepEqual(parseAuthChallenges(undefined), []);
  });
});

describe('resolveCredentials', () => {
  it('prefers options, falls back to NOMINE_REGISTRY_USERNAME / PASSWORD, and needs a user name', () => {
    const env = { NOMINE_REGISTRY_USERNAME: 'env-user', NOMINE_REGISTRY_PASSWORD: 'env-pass' };
    assert.deepEqual(resolveCredentials({ username: 'u', password: 'p' }, env), { username: 'u', password: 'p' });
    assert.deepEqual(resolveCredentials({}, env), { username: 'env-user', password: 'env-pass' });
    assert.equal(resolveCredentials(undefined, {}), undefined);
    assert.equal(basicAuthorization({ username: 'u', password: 'p:q' }), `Basic ${Buffer.from('u:p:q').toString('base64')}`);
  });
});
