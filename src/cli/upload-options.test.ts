import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomineError } from '../core/errors.ts';
import { maxTokenFileBytes, resolveUploadTarget, uploadAfterRun } from './upload-options.ts';

const token = 'nmn_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

function refusal(run: () => unknown): NomineError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof NomineError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('resolveUploadTarget', () => {
  let dir: string;
  let tokenFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-upload-options-'));
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${token}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('sends nothing when no server is named, even with a token in the environment', () => {
    assert.equal(resolveUploadTarget({}, { NOMINE_TOKEN: token }), undefined);
  });

  it('reads the token from the file, trimmed, and normalises the URL', () => {
    assert.deepEqual(resolveUploadTarget({ server: 'http://127.0.0.1:7480/', tokenFile }, {}), { server: 'http://127.0.0.1:7480', token });
    assert.deepEqual(resolveUploadTarget({ server: 'https://console.example/nomine//', tokenFile }, {}), { server: 'https://console.example/nomine', token });
  });

  it('takes NOMINE_SERVER and NOMINE_TOKEN from the environment, and flags over them', () => {
    assert.deepEqual(resolveUploadTarget({}, { NOMINE_SERVER: 'http://127.0.0.1:1', NOMINE_TOKEN: ` ${token} ` }), { server: 'http://127.0.0.1:1', token });
    assert.deepEqual(resolveUploadTarget({ server: 'http://127.0.0.1:2' }, { NOMINE_SERVER: 'http://127.0.0.1:1', NOMINE_TOKEN: 'nmn_other' }), { server: 'http://127.0.0.1:2', token: 'nmn_other' });
    assert.equal(resolveUploadTarget({ tokenFile, server: 'http://127.0.0.1:2' }, { NOMINE_TOKEN: 'nmn_other' })?.token, token);
  });

  it('refuses a server without a token, and a token file without a server', () => {
    assert.match(refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1:1' }, {})).message, /needs an API token of role ingest: give --token-file/);
    assert.match(refusal(() => resolveUploadTarget({ tokenFile }, {})).message, /go with --server/);
  });

  it('refuses URLs that are not http(s), carry credentials, or have a query, without echoing credentials', () => {
    assert.match(refusal(() => resolveUploadTarget({ server: 'ftp://127.0.0.1', tokenFile }, {})).message, /http or https, not ftp:/);
    const withPassword = refusal(() => resolveUploadTarget({ server: 'https://admin:hunter2hunter2@console', tokenFile }, {}));
    assert.match(withPassword.message, /must not hold credentials/);
    assert.ok(!withPassword.describe().includes('hunter2'));
    assert.match(refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1/?token=x', tokenFile }, {})).message, /query or fragment/);
    assert.match(refusal(() => resolveUploadTarget({ server: 'not a url', tokenFile }, {})).message, /is not a URL/);
    assert.equal(refusal(() => resolveUploadTarget({}, { NOMINE_SERVER: '127.0.0.1:7480', NOMINE_TOKEN: token })).part, 'NOMINE_SERVER');
  });

  it('refuses token files that are missing, empty, multi-word, binary or huge', async () => {
    const missing = refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1:1', tokenFile: join(dir, 'nope') }, {}));
    assert.equal(missing.code, 'not-found');
    assert.equal(missing.part, join(dir, 'nope'));
    const cases: [string, string | Buffer, RegExp][] = [
      ['empty', '\n\n', /token is empty/],
      ['two-words', 'nmn_abc def\n', /one line of printable characters/],
      ['two-lines', `${token}\n${token}\n`, /one line of printable characters/],
      ['binary', Buffer.from([0x6e, 0x00, 0xff, 0x10]), /one line of printable characters/],
      ['long', 'n'.repeat(1000), /1000 characters long: that is not a token/],
      ['huge', 'n'.repeat(maxTokenFileBytes + 1), /larger than 4096 bytes/],
    ];
    for (const [name, content, expected] of cases) {
      const file = join(dir, name);
      await writeFile(file, content);
      const error = refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1:1', tokenFile: file }, {}));
      assert.match(error.message, expected, name);
      assert.match(error.part ?? '', new RegExp(name), name);
    }
  });

  it('reads a token from a never-ending device only up to its bound', () => {
    const error = refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1:1', tokenFile: '/dev/zero' }, {}));
    assert.equal(error.code, 'limit-exceeded');
  });

  it('takes a PEM CA file for https and refuses anything else', async () => {
    const pem = join(dir, 'ca.pem');
    await writeFile(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assert.match(resolveUploadTarget({ server: 'https://127.0.0.1:1', tokenFile, caFile: pem }, {})?.ca ?? '', /BEGIN CERTIFICATE/);
    assert.match(refusal(() => resolveUploadTarget({ server: 'https://127.0.0.1:1', tokenFile, caFile: tokenFile }, {})).message, /no PEM certificate/);
    assert.match(refusal(() => resolveUploadTarget({ server: 'http://127.0.0.1:1', tokenFile, caFile: pem }, {})).message, /for an https:\/\/ server/);
  });
});

describe('uploadAfterRun', () => {
  const lines: string[] = [];
  const stderr = { write: (text: string) => lines.push(text) };
  const fast = { maxAttempts: 2, timeoutMs: 2_000, backoff: { baseMs: 1, maxMs: 1 }, maxRetryAfterMs: 1_000 };

  it('keeps the exit code when there is no server, without rendering the report', async () => {
    const code = await uploadAfterRun({ target: undefined, kind: 'audit', renderJson: () => assert.fail('not rendered'), exitCode: 1 });
    assert.equal(code, 1);
  });

  it("keeps the tool's exit code when the report is stored, and makes it 2 when the upload fails", async () => {
    let status = 201;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(status === 201 ? { id: 'r-1' } : { error: { code: 'forbidden', message: 'authorization: this needs the ingest access level' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token };
    try {
      for (const exitCode of [0, 1, 2]) {
        assert.equal(await uploadAfterRun({ target, kind: 'probe', renderJson: () => '{"endpoints":[]}', exitCode, settings: fast, stderr }), exitCode);
      }
      assert.match(lines.at(-1)!, /^nomine: probe report stored on http:\/\/127\.0\.0\.1:\d+ as r-1\n$/);
      status = 403;
      for (const exitCode of [0, 1, 2]) {
        assert.equal(await uploadAfterRun({ target, kind: 'probe', renderJson: () => '{"endpoints":[]}', exitCode, settings: fast, stderr }), 2);
      }
      assert.match(lines.at(-1)!, /^nomine: forbidden: server http:\/\/127\.0\.0\.1:\d+: report not sent: HTTP 403: authorization: this needs the ingest access level \(the token needs the role ingest or admin\)\n$/);
    } finally {
      server.close();
    }
  });
});
