import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeDaemonCertificates } from '../../../test/helpers/probe-certificates.ts';
import { ConsoleRequestError, createConsoleClient } from './console-client.ts';

/** A console impostor on 127.0.0.1: each test sets what it answers. */
let answer: (path: string) => { status: number; body: string; headers?: Record<string, string> } = () => ({ status: 200, body: '{}' });
let seen: { path: string; authorization?: string | undefined }[] = [];
let server: Server;
let url: string;

before(async () => {
  server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    request.resume();
    request.on('end', () => {
      const { status, body, headers } = answer(request.url ?? '');
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
});
after(() => new Promise((resolve) => server.close(resolve)));

async function failure(promise: Promise<unknown>): Promise<ConsoleRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConsoleRequestError, String(error));
    return error;
  }
  throw new Error('expected a failure');
}

describe('the console client', () => {
  it('keeps a path prefix, sends the credential, and reads a valid sync answer', async () => {
    seen = [];
    answer = () => ({ status: 200, body: JSON.stringify({ revision: 4, profiles: [], hasMore: false }) });
    const client = createConsoleClient({ server: url, credential: 'nmna_secret-credential-value' });
    assert.deepEqual(await client.sync(3), { revision: 4, profiles: [], hasMore: false });
    assert.deepEqual(seen, [{ path: '/prefix/api/agents/sync?since=3', authorization: 'Bearer nmna_secret-credential-value' }]);
    await client.close();
  });

  it('refuses answers that are not what a console sends: wrong shape, wrong types, not JSON', async () => {
    const client = createConsoleClient({ server: url, credential: 'nmna_secret-credential-value' });
    for (const body of [JSON.stringify({ revision: 'four', profiles: [] }), JSON.stringify({ revision: 1, profiles: [{ id: 7 }], hasMore: false }), 'not json', '[]']) {
      answer = () => ({ status: 200, body });
      const error = await failure(client.sync(0));
      assert.equal(error.code, 'invalid-input');
      assert.match(error.message, /not what a nomine console sends/);
      assert.equal(error.isRefusal, false);
    }
    await client.close();
  });

  it('says what the console said when it refuses, and which refusals are for good', async () => {
    const client = createConsoleClient({ server: url, credential: 'nmna_secret-credential-value' });
    answer = () => ({ status: 400, body: JSON.stringify({ error: { code: 'invalid-input', message: 'body.alerts.0.count: too small' } }) });
    const refused = await failure(client.postBatch({ batchId: 'b', sentAt: 1, entities: [], eventSummaries: [], profiles: [], alerts: [] }));
    assert.deepEqual([refused.status, refused.isRefusal], [400, true]);
    assert.match(refused.message, /HTTP 400: body\.alerts\.0\.count: too small/);
    answer = () => ({ status: 401, body: JSON.stringify({ error: { code: 'unauthorized', message: 'the agent node-1 was revoked' } }) });
    const revoked = await failure(client.sync(0));
    assert.deepEqual([revoked.code, revoked.isRefusal], ['unauthorized', false]);
    answer = () => ({ status: 429, body: '{}', headers: { 'retry-after': '7' } });
    assert.equal((await failure(client.sync(0))).retryAfterMs, 7000);
    answer = () => ({ status: 503, body: '<html>down</html>' });
    const down = await failure(client.sync(0));
    assert.deepEqual([down.code, down.isRefusal], ['unreachable', false]);
    await client.close();
  });

  it('stops reading an oversized answer', async () => {
    answer = () => ({ status: 200, body: `{"revision":1,"profiles":[],"hasMore":false,"pad":"${'x'.repeat(70 * 1024 * 1024)}"}` });
    const client = createConsoleClient({ server: url, credential: 'nmna_secret-credential-value' });
    const error = await failure(client.sync(0));
    assert.equal(error.code, 'limit-exceeded');
    await client.close();
  });

  it('refuses URLs it must not use, and needs an enrolment for agent calls', async () => {
    assert.throws(() => createConsoleClient({ server: 'ftp://console.example' }), /http or https/);
    assert.throws(() => createConsoleClient({ server: 'https://user:pass@console.example' }), /must not carry credentials/);
    assert.throws(() => createConsoleClient({ server: 'not a url' }), /not a URL/);
    await assert.rejects(createConsoleClient({ server: url }).sync(0), /not enrolled/);
    const unreachable = await failure(createConsoleClient({ server: 'http://127.0.0.1:9', credential: 'nmna_x'.padEnd(20, 'x') }).sync(0));
    assert.deepEqual([unreachable.code, unreachable.status], ['unreachable', undefined]);
  });
});

describe('the console client over TLS', () => {
  it('trusts a console whose certificate a private CA signed only when given that CA', async () => {
    const certificates = makeDaemonCertificates();
    const tls = createTlsServer({ cert: certificates.read(certificates.serverCert), key: certificates.read(certificates.serverKey) }, (request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ revision: 0, profiles: [], hasMore: false }));
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const server = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    try {
      const untrusted = await failure(createConsoleClient({ server, credential: 'nmna_secret-credential-value' }).sync(0));
      assert.equal(untrusted.code, 'unreachable');
      assert.match(untrusted.message, /certificate/i);
      const trusted = createConsoleClient({ server, credential: 'nmna_secret-credential-value', caFile: certificates.ca });
      assert.deepEqual(await trusted.sync(0), { revision: 0, profiles: [], hasMore: false });
      await trusted.close();
      assert.throws(() => createConsoleClient({ server, caFile: '/nonexistent/ca.pem' }), /cannot read the console's CA certificate/);
    } finally {
      await new Promise((resolve) => tls.close(resolve));
      certificates.remove();
    }
  });
});
