import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress } from './server.ts';

describe('--listen', () => {
  it('reads HOST:PORT, [IPV6]:PORT and :PORT', () => {
    assert.deepEqual(parseListenAddress('0.0.0.0:8443'), { host: '0.0.0.0', port: 8443 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListenAddress(':7480'), { host: '127.0.0.1', port: 7480 });
  });

  for (const garbage of ['', '8080', 'host:', 'host:99999', 'host:-1', '::1:80', 'a:b:c', 'host:8o']) {
    it(`refuses ${JSON.stringify(garbage)}`, () => {
      assert.throws(() => parseListenAddress(garbage), /expected HOST:PORT/);
    });
  }
});
