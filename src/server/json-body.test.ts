import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from './json-body.ts';

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    assert.deepEqual(parseJsonBody('{"a":[1,{"b":null}]}'), { a: [1, { b: null }] });
  });

  it('says where truncated or garbled JSON breaks', () => {
    assert.throws(() => parseJsonBody('{"username": "a", "password": '), /malformed JSON body: .*(end of JSON|Unexpected)/);
    assert.throws(() => parseJsonBody('{kind: scan}'), /malformed JSON body: .*position 1/);
    assert.throws(() => parseJsonBody('\u0000\u0001'), /malformed JSON body/);
  });

  it('refuses empty bodies and prototype poisoning, nested or not', () => {
    assert.throws(() => parseJsonBody('  '), /body is empty/);
    assert.throws(() => parseJsonBody('{"__proto__":{"admin":true}}'), /"__proto__" is not accepted/);
    assert.throws(() => parseJsonBody('{"a":{"constructor":{"prototype":{"admin":true}}}}'), /"constructor" is not accepted/);
    assert.deepEqual(parseJsonBody('{"constructor":"fine"}'), { constructor: 'fine' });
  });

  it('refuses poisoning keys spelled with escapes, which the fast path for plain bodies must not miss', () => {
    assert.throws(() => parseJsonBody('{"\\u005f_proto__":{"admin":true}}'), /"__proto__" is not accepted/);
    assert.throws(() => parseJsonBody('{"a":{"\\u0063onstructor":{"prototype":{"admin":true}}}}'), /"constructor" is not accepted/);
    assert.deepEqual(parseJsonBody('{"message":"caf\\u00e9"}'), { message: 'café' });
  });
});
