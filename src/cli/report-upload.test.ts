import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { NomineError } from '../core/errors.ts';
import { makeDaemonCertificates, type CertificateFiles } from '../../test/helpers/probe-certificates.ts';
import { envelopeBody, maxUploadAnswerBytes, uploadReport, type UploadRequest, type UploadSettings } from './report-upload.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Answer = (request: Received, response: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 answering each request with the next scripted answer (the last one repeats). */
async function scriptedServer(answers: Answer[], make: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server = createHttpServer) {
  const received: Received[] = [];
  const server = make((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      answers[Math.min(received.length, answers.length) - 1]!(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_request, response) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};
const stored = (id = 'b5f1a1de-0000-4000-8000-000000000001'): Answer => json(201, { id, kind: 'scan', tool: { name: 'nomine', version: '0.1.0' }, generatedAt: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:01.000Z', submittedBy: 'token:x' }, { 'idempotent-replayed': 'false' });
const failure = (status: number, code: string, message: string, headers: Record<string, string> = {}): Answer => json(status, { error: { code, message } }, headers);

const upload: UploadRequest = {
  kind: 'scan',
  tool: { name: 'nomine', version: '0.1.0' },
  generatedAt: '2026-01-01T00:00:00.000Z',
  reportJson: `${JSON.stringify({ tool: { name: 'nomine' }, findings: [{ path: '/usr/bin/xmrig', note: 'quote " and \\ and ünïcode' }], images: [] }, null, 2)}\n`,
};
const fast: UploadSettings = { maxAttempts: 4, timeoutMs: 5_000, backoff: { baseMs: 10, maxMs: 40 }, maxRetryAfterMs: 60_000 };
const token = 'nmn_test-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

async function failureOf(promise: Promise<unknown>): Promise<NomineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NomineError, String(error));
    return error;
  }
  assert.fail('expected the upload to fail');
}

describe('envelopeBody', () => {
  it('wraps the report text unchanged in the envelope the console validates', () => {
    const body = JSON.parse(envelopeBody(upload));
    assert.deepEqual(Object.keys(body), ['kind', 'tool', 'generatedAt', 'report']);
    assert.deepEqual(body.report, JSON.parse(upload.reportJson));
    assert.equal(body.kind, 'scan');
  });
});

describe('uploadReport against a real HTTP server', () => {
  it('sends the envelope with the token and an Idempotency-Key, and returns the stored id', async () => {
    const server = await scriptedServer([stored()]);
    try {
      const receipt = await uploadReport({ server: `http://127.0.0.1:${server.port}/`, token }, upload, fast);
      assert.deepEqual(receipt, { id: 'b5f1a1de-0000-4000-8000-000000000001', replayed: false, attempts: 1, url: `http://127.0.0.1:${server.port}/api/reports/scan` });
      const [request] = server.received;
      assert.equal(request!.method, 'POST');
      assert.equal(request!.url, '/api/reports/scan');
      assert.equal(request!.headers.authorization, `Bearer ${token}`);
      assert.equal(request!.headers['content-type'], 'application/json');
      assert.match(String(request!.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
      assert.deepEqual(JSON.parse(request!.body).report, JSON.parse(upload.reportJson));
    } finally {
      await server.close();
    }
  });

  it('retries a 500 with the same Idempotency-Key and succeeds on the 201 that follows', async () => {
    const server = await scriptedServer([failure(500, 'internal', 'internal error: the server log has the details'), stored()]);
    const waits: number[] = [];
    try {
      const receipt = await uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast, { sleep: async (ms) => waits.push(ms) });
      assert.equal(receipt.attempts, 2);
      assert.equal(server.received.length, 2);
      assert.equal(server.received[0]!.headers['idempotency-key'], server.received[1]!.headers['idempotency-key']);
      assert.equal(server.received[0]!.body, server.received[1]!.body);
      assert.equal(waits.length, 1);
    } finally {
      await server.close();
    }
  });

  it('refuses at once on 401, quoting the server and naming it, without retrying', async () => {
    const server = await scriptedServer([failure(401, 'unauthorized', 'authorization: the API token "ci" was revoked', { 'www-authenticate': 'Bearer realm="nomine"' })]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast));
      assert.equal(error.code, 'unauthorized');
      assert.equal(error.part, `server http://127.0.0.1:${server.port}`);
      assert.match(error.message, /HTTP 401: authorization: the API token "ci" was revoked/);
      assert.match(error.message, /--token-file/);
      assert.ok(!error.describe().includes(token), 'the token is never printed');
      assert.equal(server.received.length, 1);
    } finally {
      await server.close();
    }
  });

  it('refuses at once on 413 and says the report is too large for the console', async () => {
    const server = await scriptedServer([failure(413, 'limit-exceeded', 'body: the request body is larger than the 16777216 bytes this route accepts')]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast));
      assert.equal(error.code, 'limit-exceeded');
      assert.match(error.message, /HTTP 413: body: the request body is larger/);
      assert.match(error.message, /larger than the console accepts/);
      assert.equal(server.received.length, 1);
    } finally {
      await server.close();
    }
  });

  it('gives up after the last try on a server that keeps failing, saying how many tries and why', async () => {
    const server = await scriptedServer([(_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>')]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast, { sleep: async () => undefined }));
      assert.equal(error.code, 'unreachable');
      assert.match(error.message, /after 4 tries: HTTP 502: <html><body><h1>502 Bad Gateway/);
      assert.equal(server.received.length, 4);
      assert.equal(new Set(server.received.map((request) => request.headers['idempotency-key'])).size, 1);
    } finally {
      await server.close();
    }
  });

  it('waits as long as a 429 Retry-After asks, and refuses to wait longer than its ceiling', async () => {
    const server = await scriptedServer([failure(429, 'limit-exceeded', 'slow down', { 'retry-after': '7' }), stored()]);
    const waits: number[] = [];
    try {
      const receipt = await uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast, { sleep: async (ms) => waits.push(ms) });
      assert.equal(receipt.attempts, 2);
      assert.deepEqual(waits, [7_000]);
    } finally {
      await server.close();
    }
    const patient = await scriptedServer([failure(429, 'limit-exceeded', 'slow down', { 'retry-after': '3600' })]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${patient.port}`, token }, upload, fast, { sleep: async () => assert.fail('must not wait an hour') }));
      assert.equal(error.code, 'limit-exceeded');
      assert.match(error.message, /asked to retry after 3600 s, longer than the 60 s nomine waits/);
    } finally {
      await patient.close();
    }
  });

  it('does not take a garbage 201 for a stored report', async () => {
    const server = await scriptedServer([(_request, response) => response.writeHead(201, { 'content-type': 'text/html' }).end('<!doctype html><title>Welcome to nginx</title>')]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast));
      assert.equal(error.code, 'invalid-input');
      assert.match(error.message, /HTTP 201 without a report summary: <!doctype html><title>Welcome to nginx<\/title>: is --server a nomine console\?/);
    } finally {
      await server.close();
    }
  });

  it('stops reading an endless answer at its bound', async () => {
    const server = await scriptedServer([(_request, response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(Buffer.alloc(maxUploadAnswerBytes * 4, 0x61));
    }]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast));
      assert.match(error.message, /larger than 65536 bytes: is --server a nomine console\?/);
    } finally {
      await server.close();
    }
  });

  it('times out a server that never answers, retries it, and says so', async () => {
    const server = await scriptedServer([() => undefined]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, { ...fast, maxAttempts: 2, timeoutMs: 300 }, { sleep: async () => undefined }));
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /after 2 tries: no answer within 0.3 s/);
      assert.equal(server.received.length, 2);
    } finally {
      await server.close();
    }
  });

  it('retries a refused connection and names the server it could not reach', async () => {
    const closed = await scriptedServer([stored()]);
    await closed.close();
    const waits: number[] = [];
    const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${closed.port}`, token }, upload, { ...fast, maxAttempts: 3 }, { sleep: async (ms) => waits.push(ms) }));
    assert.equal(error.code, 'unreachable');
    assert.equal(error.part, `server http://127.0.0.1:${closed.port}`);
    assert.match(error.message, /after 3 tries: connection refused/);
    assert.equal(waits.length, 2);
  });

  it('does not follow a redirect: the token must not travel to another address', async () => {
    const server = await scriptedServer([(_request, response) => response.writeHead(307, { location: 'http://127.0.0.2:9/steal' }).end()]);
    try {
      const error = await failureOf(uploadReport({ server: `http://127.0.0.1:${server.port}`, token }, upload, fast));
      assert.match(error.message, /HTTP 307/);
      assert.equal(server.received.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe('uploadReport over TLS with a private CA', () => {
  let certificates: CertificateFiles;
  let server: Awaited<ReturnType<typeof scriptedServer>>;
  before(async () => {
    certificates = makeDaemonCertificates();
    server = await scriptedServer([stored()], (handler) => createHttpsServer({ cert: certificates.read(certificates.serverCert), key: certificates.read(certificates.serverKey) }, handler));
  });
  after(async () => {
    await server.close();
    certificates.remove();
  });

  it('refuses an unknown CA and points at --ca-file, then succeeds with it', async () => {
    const error = await failureOf(uploadReport({ server: `https://127.0.0.1:${server.port}`, token }, upload, fast));
    assert.equal(error.code, 'unreachable');
    assert.match(error.message, /TLS: .*--ca-file/);
    assert.equal(server.received.length, 0);
    const receipt = await uploadReport({ server: `https://127.0.0.1:${server.port}`, token, ca: certificates.read(certificates.ca) }, upload, fast);
    assert.equal(receipt.attempts, 1);
    assert.equal(server.received.length, 1);
  });
});
