import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNomineError } from '../core/errors.ts';
import { endpointCount, endpointsOf, parseTarget, parseTargetLines, wellKnownPorts } from './targets.ts';

const options = { minCidrPrefix: 16 };

describe('parseTarget', () => {
  it('reads host:port, a bare host on every well-known port, bracketed IPv6 and URLs', () => {
    assert.deepEqual([...endpointsOf(parseTarget('127.0.0.1:2375', options))].map((e) => e.name), ['127.0.0.1:2375']);
    assert.equal(endpointCount(parseTarget('db.internal', options)), wellKnownPorts.length);
    assert.deepEqual([...endpointsOf(parseTarget('[::1]:5000', options))].map((e) => [e.hostname, e.port]), [['::1', 5000]]);
    const url = [...endpointsOf(parseTarget('https://127.0.0.1/api', options))][0];
    assert.deepEqual([url?.scheme, url?.port], ['https', 443]);
  });

  it('expands a CIDR range lazily, aligned to its network, with an optional port', () => {
    const target = parseTarget('127.0.0.5/30:2379', options);
    assert.equal(endpointCount(target), 4);
    assert.deepEqual([...endpointsOf(target)].map((e) => e.name), ['127.0.0.4:2379', '127.0.0.5:2379', '127.0.0.6:2379', '127.0.0.7:2379']);
    assert.equal(parseTarget('10.1.0.0/16', { ...options, ports: [22] }).hostCount, 65_536);
  });

  it('refuses a range larger than the cap with limit-exceeded, saying the cap', () => {
    assert.throws(() => parseTarget('10.0.0.0/15', options), (error) => isNomineError(error) && error.code === 'limit-exceeded' && /at most \/16/.test(error.message));
  });

  it('refuses malformed targets with invalid-input naming them', () => {
    for (const input of ['', 'a b', 'host:0', 'host:70000', 'host:port', '1.2.3.4/33', '300.1.1.1/24', 'ftp://x', 'host/path', '-bad-.example']) {
      assert.throws(() => parseTarget(input, options), (error) => isNomineError(error) && error.code === 'invalid-input', input);
    }
  });
});

describe('parseTargetLines', () => {
  it('skips blank lines and comments', () => {
    assert.deepEqual(parseTargetLines('# ours\n10.0.0.1:2375  # docker\n\n  10.0.0.2\r\n'), ['10.0.0.1:2375', '10.0.0.2']);
  });
});
