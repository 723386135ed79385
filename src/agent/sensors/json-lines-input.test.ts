import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { NomineError } from '../../core/errors.ts';
import { type JsonLineProblem, type JsonLinesOptions, type JsonLinesSource, parseBody, readJsonLines, whyUnavailable } from './json-lines-input.ts';

interface Collected {
  values: { value: unknown; line: number; origin: string }[];
  problems: JsonLineProblem[];
  notices: string[];
}

function collector(): Collected & { handlers: Parameters<typeof readJsonLines>[1] } {
  const collected: Collected = { values: [], problems: [], notices: [] };
  return {
    ...collected,
    handlers: {
      value: (value, where) => collected.values.push({ value, ...where }),
      problem: (problem) => collected.problems.push(problem),
      notice: (message) => collected.notices.push(message),
    },
  };
}

async function readChunks(chunks: (string | Buffer)[], options: JsonLinesOptions = {}): Promise<Collected> {
  const result = collector();
  const stdin = Readable.from(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  await readJsonLines({ stdin: true }, result.handlers, new AbortController().signal, { ...options, stdin });
  return result;
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'nomine-json-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('readJsonLines from a stream', () => {
  it('reassembles lines split across chunks, with CRLF, blank lines, a BOM and a last line without newline', async () => {
    const { values, problems } = await readChunks(['\ufeff{"a":', '1}\r\n\n  \n{"b":"é', '"}\n[1,2]']);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      values.map(({ value, line }) => [value, line]),
      [
        [{ a: 1 }, 1],
        [{ b: 'é' }, 4],
        [[1, 2], 5],
      ],
    );
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('{"k":"€"}\n');
    const { values } = await readChunks([bytes.subarray(0, 7), bytes.subarray(7)]);
    assert.deepEqual(values[0]?.value, { k: '€' });
  });

  it('reports a malformed line with its number and goes on', async () => {
    const { values, problems } = await readChunks(['{"ok":1}\n{"truncated": \n{"ok":2}\nnot json at all\n{"ok":3}']);
    assert.deepEqual(
      values.map(({ value }) => value),
      [{ ok: 1 }, { ok: 2 }, { ok: 3 }],
    );
    assert.deepEqual(
      problems.map(({ kind, line, origin }) => [kind, line, origin]),
      [
        ['malformed', 2, 'stdin'],
        ['malformed', 4, 'stdin'],
      ],
    );
  });

  it('reports a truncated last line', async () => {
    const { problems } = await readChunks(['{"ok":1}\n{"cut":"of']);
    assert.deepEqual(
      problems.map(({ kind, line }) => [kind, line]),
      [['malformed', 2]],
    );
  });

  it('skips a line over the limit without holding it, and reads the next', async () => {
    const huge = `{"pad":"${'x'.repeat(200_000)}"}`;
    const chunks = ['{"before":1}\n', ...huge.match(/.{1,7000}/gs)!, '\n{"after":2}\n'];
    const { values, problems } = await readChunks(chunks, { maxLineBytes: 1024 });
    assert.deepEqual(
      values.map(({ value, line }) => [value, line]),
      [
        [{ before: 1 }, 1],
        [{ after: 2 }, 3],
      ],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.kind, 'oversized');
    assert.equal(problems[0]?.line, 2);
    assert.match(problems[0]?.message ?? '', /200010 bytes is longer than the limit of 1024/);
  });

  it('accepts a line of exactly the limit', async () => {
    const line = `{"p":"${'y'.repeat(1024 - 8)}"}`;
    assert.equal(Buffer.byteLength(line), 1024);
    const { values, problems } = await readChunks([`${line}\n`], { maxLineBytes: 1024 });
    assert.equal(values.length, 1);
    assert.deepEqual(problems, []);
  });

  it('survives absurdly deep nesting and binary garbage', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x0a]);
    const { values, problems } = await readChunks([`${deep}\n`, garbage, '{"still":"here"}\n']);
    assert.deepEqual(values.at(-1)?.value, { still: 'here' });
    assert.ok(problems.every((problem) => problem.kind === 'malformed'));
    assert.equal(problems.at(-1)?.line, 2);
  });
});

describe('readJsonLines from a file', () => {
  it('reads a file once and ends', async () => {
    const path = join(dir, 'once.jsonl');
    writeFileSync(path, '{"n":1}\n{"n":2}\n');
    const result = collector();
    await readJsonLines({ file: path }, result.handlers, new AbortController().signal);
    assert.deepEqual(
      result.values.map(({ value, origin }) => [value, origin]),
      [
        [{ n: 1 }, path],
        [{ n: 2 }, path],
      ],
    );
  });

  it('rejects a missing file or a directory when not following', async () => {
    const result = collector();
    await assert.rejects(readJsonLines({ file: join(dir, 'absent.jsonl') }, result.handlers, new AbortController().signal), (error: unknown) => error instanceof NomineError && error.code === 'not-found');
    await assert.rejects(readJsonLines({ file: dir }, result.handlers, new AbortController().signal), (error: unknown) => error instanceof NomineError && error.code === 'invalid-input');
  });

  it('follows a file as it grows, is truncated and is rotated', async () => {
    const path = join(dir, 'follow.jsonl');
    writeFileSync(path, '{"n":1}\n');
    const result = collector();
    const controller = new AbortController();
    const reading = readJsonLines({ file: path, follow: true }, result.handlers, controller.signal, { pollIntervalMs: 10 });
    try {
      await until(() => result.values.length === 1, 'the first line');
      appendFileSync(path, '{"n":2}\n{"n":');
      await until(() => result.values.length === 2, 'an appended line');
      appendFileSync(path, '3}\n');
      await until(() => result.values.length === 3, 'a line completed by a later write');
      truncateSync(path, 0);
      await new Promise((resolve) => setTimeout(resolve, 40));
      appendFileSync(path, '{"n":4}\n');
      await until(() => result.values.length === 4, 'a line after truncation');
      renameSync(path, `${path}.1`);
      appendFileSync(`${path}.1`, '{"n":5}\n');
      writeFileSync(path, '{"n":6}\n');
      await until(() => result.values.length === 6, 'lines across rotation');
    } finally {
      controller.abort();
      await reading;
    }
    assert.deepEqual(
      result.values.map(({ value }) => (value as { n: number }).n),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(result.values[3]?.line, 1, 'numbering restarts after truncation');
    assert.ok(result.notices.some((notice) => /truncated/.test(notice)));
    assert.ok(result.notices.some((notice) => /rotated/.test(notice)));
    assert.deepEqual(result.problems, []);
  });

  it('waits for a followed file to appear', async () => {
    const path = join(dir, 'later.jsonl');
    const result = collector();
    const controller = new AbortController();
    const reading = readJsonLines({ file: path, follow: true }, result.handlers, controller.signal, { pollIntervalMs: 10 });
    await until(() => result.notices.length > 0, 'the waiting notice');
    writeFileSync(path, '{"late":true}\n');
    await until(() => result.values.length === 1, 'the line of the new file');
    controller.abort();
    await reading;
    assert.match(result.notices[0] ?? '', /does not exist yet/);
  });
});

describe('readJsonLines over HTTP', () => {
  const token = 'tok-3f9a1c7e5b2d4f60';
  const start = async (options: JsonLinesOptions = {}) => {
    const result = collector();
    const controller = new AbortController();
    let url = '';
    const serving = readJsonLines({ http: { port: 0, token } }, { ...result.handlers, listening: ({ host, port }) => (url = `http://${host}:${port}/`) }, controller.signal, options);
    await until(() => url !== '', 'the server to listen');
    return { result, url, stop: async () => (controller.abort(), serving) };
  };
  const post = (url: string, body: string | Buffer, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => fetch(url, { method: 'POST', body, headers });

  it('refuses to start without a token', async () => {
    const result = collector();
    for (const bad of ['', '   ', undefined]) {
      const source = { http: { port: 0, token: bad } } as unknown as JsonLinesSource;
      await assert.rejects(readJsonLines(source, result.handlers, new AbortController().signal), /needs a bearer token/);
    }
  });

  it('accepts one object per request, JSON lines and a pretty-printed object', async () => {
    const server = await start();
    try {
      const single = await post(server.url, '{"rule":"a"}');
      assert.equal(single.status, 200);
      assert.deepEqual(await single.json(), { accepted: 1 });
      const lines = await post(server.url, '{"rule":"b"}\n\n{"rule":"c"}\n');
      assert.deepEqual(await lines.json(), { accepted: 2 });
      const pretty = await post(server.url, JSON.stringify({ rule: 'd', output_fields: { 'proc.pid': 1 } }, null, 2));
      assert.deepEqual(await pretty.json(), { accepted: 1 });
    } finally {
      await server.stop();
    }
    assert.deepEqual(
      server.result.values.map(({ value, line }) => [(value as { rule: string }).rule, line]),
      [
        ['a', 1],
        ['b', 1],
        ['c', 3],
        ['d', 1],
      ],
    );
    assert.match(server.result.values[2]?.origin ?? '', /^http 127\.0\.0\.1:\d+ request 2$/);
  });

  it('answers 401 without the right token and accepts nothing', async () => {
    const server = await start();
    try {
      assert.equal((await post(server.url, '{"rule":"x"}', {})).status, 401);
      assert.equal((await post(server.url, '{"rule":"x"}', { authorization: `Bearer ${token}x` })).status, 401);
      assert.equal((await post(server.url, '{"rule":"x"}', { authorization: token })).status, 401);
      const refused = await post(server.url, '{"rule":"x"}', { authorization: 'Basic dXNlcjpwYXNz' });
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await fetch(server.url, { headers: { authorization: `Bearer ${token}` } })).status, 405);
    } finally {
      await server.stop();
    }
    assert.deepEqual(server.result.values, []);
    assert.equal(server.result.problems.filter((problem) => problem.kind === 'refused').length, 5);
  });

  it('answers 400 with the line number for a body that is not JSON', async () => {
    const server = await start();
    try {
      const response = await post(server.url, '{"rule":"ok"}\n{"rule": tru\n');
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: string; line: number };
      assert.equal(body.line, 2);
      assert.match(body.error, /^line 2: malformed JSON/);
      assert.equal((await post(server.url, '')).status, 400);
    } finally {
      await server.stop();
    }
    assert.deepEqual(server.result.values, [], 'a bad line refuses the whole body');
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const server = await start({ maxBodyBytes: 4096, maxLineBytes: 1024 });
    try {
      const tooBig = `{"pad":"${'z'.repeat(8000)}"}`;
      const declared = await post(server.url, tooBig);
      assert.equal(declared.status, 413);
      const streamed = await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: Readable.toWeb(Readable.from([Buffer.from(tooBig)])) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(streamed.status, 413);
      const longLine = await post(server.url, `{"a":1}\n{"pad":"${'q'.repeat(2000)}"}\n`);
      assert.equal(longLine.status, 413);
      assert.equal(((await longLine.json()) as { line: number }).line, 2);
      assert.equal((await post(server.url, '{"still":"served"}')).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('says when the port is taken, and refuses to start there', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      assert.match((await whyUnavailable({ http: { port, token } })) ?? '', /in use/);
      await assert.rejects(readJsonLines({ http: { port, token } }, collector().handlers, new AbortController().signal), (error: unknown) => error instanceof NomineError && error.code === 'conflict');
    } finally {
      blocker.close();
    }
    assert.equal(await whyUnavailable({ http: { port, token } }), undefined);
    assert.match((await whyUnavailable({ http: { port, token: '' } })) ?? '', /token/);
    assert.match((await whyUnavailable({ file: join(dir, 'nope.jsonl') })) ?? '', /file not found/);
  });
});

describe('parseBody', () => {
  it('takes a whole document first, then lines', () => {
    assert.deepEqual(parseBody(Buffer.from('{\n "a": 1\n}'), 1024), { values: [{ value: { a: 1 }, line: 1 }] });
    assert.deepEqual(parseBody(Buffer.from('1\n2'), 1024), { values: [{ value: 1, line: 1 }, { value: 2, line: 2 }] });
  });

  it('names the first bad line', () => {
    const parsed = parseBody(Buffer.from('1\n\n{'), 1024);
    assert.ok('status' in parsed);
    assert.deepEqual([parsed.status, parsed.line], [400, 3]);
    assert.match(parsed.message, /malformed JSON/);
  });
});
