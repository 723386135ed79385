import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNomineError } from '../../core/errors.ts';
import { nextPageLink, parseListingTarget } from './registry-catalog.ts';

describe('nextPageLink', () => {
  it('finds rel="next" among several links', () => {
    assert.equal(nextPageLink('</v2/_catalog?last=b&n=1>; rel="next"'), '/v2/_catalog?last=b&n=1');
    assert.equal(nextPageLink('<https://r/v2/_catalog?p=1>; rel="prev", <https://r/v2/_catalog?p=3>; rel=next'), 'https://r/v2/_catalog?p=3');
    assert.equal(nextPageLink('</x>; rel="prev"'), undefined);
    assert.equal(nextPageLink(undefined), undefined);
  });
});

describe('parseListingTarget', () => {
  it('reads a registry alone or with one repository', () => {
    assert.deepEqual(parseListingTarget('127.0.0.1:5000'), { registry: '127.0.0.1:5000', endpointHost: '127.0.0.1:5000' });
    assert.deepEqual(parseListingTarget('docker://127.0.0.1:5000/team/app/'), { registry: '127.0.0.1:5000', endpointHost: '127.0.0.1:5000', repository: 'team/app' });
  });

  it('refuses a tag, a digest or a host that is not one', () => {
    for (const target of ['127.0.0.1:5000/app:1', `127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`, 'not_a_host']) {
      assert.throws(() => parseListingTarget(target), (error) => isNomineError(error) && error.code === 'invalid-input', target);
    }
  });
});
