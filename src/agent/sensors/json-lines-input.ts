/**
 * Newline-delimited JSON from other programs: a file (read once, or followed as it grows like `tail -F`, across
 * truncation and rotation), stdin, or HTTP POSTs (Falco's http_output and Falcosidekick's webhook send one JSON
 * object per request; a body may also hold several lines). Every line is bounded by `maxJsonLineBytes`; a line that
 * is malformed or too long is reported with its line number and the stream goes on. The HTTP input refuses to start
 * without a bearer token, bounds bodies by `maxHttpBodyBytes`, and answers 401 (bad token), 413 (too large) or 400
 * (not JSON, with the line number) for requests it refuses, accepting nothing from them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NomineError, toNomineError } from '../../core/errors.ts';

/** Bytes of one JSON line (without its newline); a longer line is skipped and reported. */
export const maxJsonLineBytes = 1024 * 1024;
/** Bytes of one HTTP request body; a larger one is answered 413. */
export const maxHttpBodyBytes = 4 * 1024 * 1024;
/** Milliseconds between looks at a followed file that has no new data. */
export const followPollMs = 250;
/** Milliseconds an HTTP client has to send its whole request. */
export const httpRequestTimeoutMs = 30_000;
/** Characters of a parser message quoted back, so a hostile line cannot flood a report. */
const maxMessageChars = 160;
const readChunkBytes = 64 * 1024;

export interface HttpInputOptions {
  /** Address to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 picks a free port (see `listening`). */
  port: number;
  /** Required: requests must carry `Authorization: Bearer <token>`. */
  token: string;
}

export type JsonLinesSource = { file: string; follow?: boolean } | { stdin: true } | { http: HttpInputOptions };

/** Where a value came from: the file, `stdin` or `http 127.0.0.1:8765 request 3`, and its line there (from 1). */
export interface LineOrigin {
  origin: string;
  line: number;
}

export interface JsonLineProblem extends Partial<LineOrigin> {
  origin: string;
  /** malformed: not JSON; oversized: longer than the limit; refused: an HTTP request turned away (401, 405, 413). */
  kind: 'malformed' | 'oversized' | 'refused';
  message: string;
}

export interface JsonLinesHandlers {
  value(value: unknown, where: LineOrigin): void;
  problem(problem: JsonLineProblem): void;
  /** Things worth telling that are not problems with a line: rotation, truncation, waiting for a file. */
  notice?(message: string): void;
  /** The HTTP input is accepting requests at this address. */
  listening?(address: { host: string; port: number }): void;
}

export interface JsonLinesOptions {
  maxLineBytes?: number;
  maxBodyBytes?: number;
  pollIntervalMs?: number;
  /** The stream read for `{ stdin: true }`; process.stdin unless a test passes its own. */
  stdin?: Readable;
}

/** Reads the source until it ends (a file not followed, stdin at EOF) or the signal aborts. Rejects only when it cannot start. */
export async function readJsonLines(source: JsonLinesSource, handlers: JsonLinesHandlers, signal: AbortSignal, options: JsonLinesOptions = {}): Promise<void> {
  if (signal.aborted) return;
  const maxLineBytes = options.maxLineBytes ?? maxJsonLineBytes;
  if ('file' in source) return readFile(source.file, source.follow === true, handlers, signal, maxLineBytes, options.pollIntervalMs ?? followPollMs);
  if ('stdin' in source) return readStream(options.stdin ?? process.stdin, 'stdin', handlers, signal, maxLineBytes);
  return serveHttp(source.http, handlers, signal, maxLineBytes, options.maxBodyBytes ?? maxHttpBodyBytes);
}

/** Why the source cannot be read now (file missing, port taken, no token), or undefined when it can. */
export async function whyUnavailable(source: JsonLinesSource): Promise<string | undefined> {
  if ('file' in source) {
    const info = await stat(source.file).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) return info.code === 'ENOENT' ? `file not found: ${source.file}` : `cannot read ${source.file}: ${info.message}`;
    if (!info.isFile() && !info.isFIFO()) return `${source.file} is not a regular file or a pipe`;
    return undefined;
  }
  if ('stdin' in source) return process.stdin.isTTY ? 'stdin is a terminal: pipe the events in' : undefined;
  const problem = httpOptionsProblem(source.http);
  if (problem) return problem;
  const server = createServer();
  try {
    await listen(server, source.http.port, hostOf(source.http));
    return undefined;
  } catch (error) {
    return toNomineError(error).message;
  } finally {
    await closeServer(server);
  }
}

/**
 * Splits bytes into lines without ever holding more than the limit of one line: past the limit the rest of the line
 * is counted and dropped until its newline.
 */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;
  line = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (bytes: Buffer, line: number) => void,
    private readonly onOversized: (line: number, bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      this.append(chunk.subarray(start, newline < 0 ? chunk.length : newline));
      if (newline < 0) return;
      this.finish();
      start = newline + 1;
    }
  }

  /** The input ended: a last line without a newline still counts. */
  end(): void {
    if (this.size > 0 || this.overflow) this.finish();
  }

  /** The input started over (a truncated file): a partial line is dropped, numbering restarts. */
  restart(): void {
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    this.line = 0;
  }

  private append(piece: Buffer): void {
    this.size += piece.length;
    if (this.overflow) return;
    if (this.size > this.maxBytes) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    if (piece.length > 0) this.parts.push(piece);
  }

  private finish(): void {
    this.line += 1;
    if (this.overflow) this.onOversized(this.line, this.size);
    else this.onLine(Buffer.concat(this.parts, this.size), this.line);
    this.parts = [];
    this.size = 0;
    this.overflow = false;
  }
}

type ParsedLine = { value: unknown } | { blank: true } | { error: string };

function parseLine(bytes: Buffer): ParsedLine {
  let text = bytes.toString('utf8');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { blank: true };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    // JSON.parse is iterative in V8, but a RangeError from absurd nesting is still just a bad line.
    const message = error instanceof Error ? error.message : String(error);
    return { error: `malformed JSON: ${message.length > maxMessageChars ? `${message.slice(0, maxMessageChars)}…` : message}` };
  }
}

function splitterFor(origin: string, handlers: JsonLinesHandlers, maxLineBytes: number): LineSplitter {
  return new LineSplitter(
    maxLineBytes,
    (bytes, line) => {
      const parsed = parseLine(bytes);
      if ('value' in parsed) handlers.value(parsed.value, { origin, line });
      else if ('error' in parsed) handlers.problem({ kind: 'malformed', origin, line, message: parsed.error });
    },
    (line, bytes) => handlers.problem({ kind: 'oversized', origin, line, message: `line of ${bytes} bytes is longer than the limit of ${maxLineBytes}` }),
  );
}

async function readStream(stream: Readable, origin: string, handlers: JsonLinesHandlers, signal: AbortSignal, maxLineBytes: number): Promise<void> {
  const splitter = splitterFor(origin, handlers, maxLineBytes);
  const stop = () => stream.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of stream) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (error) {
    if (!signal.aborted) throw toNomineError(error, origin);
  } finally {
    signal.removeEventListener('abort', stop);
  }
  splitter.end();
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

async function readFile(path: string, follow: boolean, handlers: JsonLinesHandlers, signal: AbortSignal, maxLineBytes: number, pollMs: number): Promise<void> {
  const opened = await openFile(path, follow, handlers, signal, pollMs);
  if (!opened) return;
  if (opened === 'stream') return readStream(createReadStream(path), path, handlers, signal, maxLineBytes);
  let handle = opened;
  let identity = await handle.stat();
  let position = 0;
  const splitter = splitterFor(path, handlers, maxLineBytes);
  const drain = async () => {
    for (;;) {
      // A fresh buffer per read: the splitter keeps slices of a line that spans reads.
      const buffer = Buffer.allocUnsafe(readChunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead));
    }
  };
  try {
    await drain();
    while (follow && (await pause(pollMs, signal))) {
      const current = await stat(path).catch(() => undefined);
      // Rotated away and not yet recreated: the old file may still grow.
      if (current && (current.ino !== identity.ino || current.dev !== identity.dev)) {
        // The new file may vanish again before it is opened; the old one is kept until it can be.
        const next = await open(path, 'r').catch(() => undefined);
        if (!next) continue;
        await drain();
        splitter.end();
        await handle.close();
        handle = next;
        identity = await handle.stat();
        position = 0;
        splitter.restart();
        handlers.notice?.(`${path} was replaced (rotated): reading the new file from its start`);
      } else if (current && current.size < position) {
        position = 0;
        splitter.restart();
        handlers.notice?.(`${path} was truncated: reading it again from its start`);
      }
      await drain();
    }
    splitter.end();
  } finally {
    await handle.close();
  }
}

/** Opens a regular file for positional reads; a pipe is read as a stream. With `follow`, waits for the file to appear. */
async function openFile(path: string, follow: boolean, handlers: JsonLinesHandlers, signal: AbortSignal, pollMs: number): Promise<FileHandle | 'stream' | undefined> {
  let waiting = false;
  for (;;) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (info.isFIFO()) return 'stream';
      if (!info.isFile()) throw new NomineError('invalid-input', 'not a regular file or a pipe', path);
      return open(path, 'r').catch((error: unknown) => {
        throw toNomineError(error, path);
      });
    }
    if (info.code !== 'ENOENT' || !follow) throw toNomineError(info, path);
    if (!waiting) handlers.notice?.(`${path} does not exist yet: waiting for it to appear`);
    waiting = true;
    if (!(await pause(pollMs, signal))) return undefined;
  }
}

function hostOf(options: HttpInputOptions): string {
  return options.host ?? '127.0.0.1';
}

function httpOptionsProblem(options: HttpInputOptions): string | undefined {
  if (typeof options.token !== 'string' || options.token.trim() === '') {
    return 'the HTTP input needs a bearer token: senders must present it as `Authorization: Bearer <token>`';
  }
  if (/\s/.test(options.token)) return 'the HTTP input token must not contain whitespace';
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) return `port ${String(options.port)} is not 0..65535`;
  return undefined;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      const part = `http ${host}:${port}`;
      if (error.code === 'EADDRINUSE') reject(new NomineError('conflict', `port ${port} on ${host} is in use`, part, { cause: error }));
      else if (error.code === 'EACCES') reject(new NomineError('forbidden', `not allowed to listen on port ${port}`, part, { cause: error }));
      else if (error.code === 'EADDRNOTAVAIL') reject(new NomineError('invalid-input', `${host} is not an address of this machine`, part, { cause: error }));
      else reject(toNomineError(error, part));
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function serveHttp(options: HttpInputOptions, handlers: JsonLinesHandlers, signal: AbortSignal, maxLineBytes: number, maxBodyBytes: number): Promise<void> {
  const host = hostOf(options);
  const problem = httpOptionsProblem(options);
  if (problem) throw new NomineError('invalid-input', problem, `http ${host}:${options.port}`);
  // Compared as digests so the comparison takes the same time whatever the length of a wrong token.
  const expected = digest(`Bearer ${options.token}`);
  let requests = 0;
  let name = `http ${host}:${options.port}`;
  const server = createServer({ requestTimeout: httpRequestTimeoutMs, headersTimeout: Math.min(httpRequestTimeoutMs, 10_000) }, (request, response) => {
    requests += 1;
    const origin = `${name} request ${requests}`;
    handleRequest(request, response, origin).catch((error: unknown) => {
      handlers.problem({ kind: 'refused', origin, message: toNomineError(error).message });
      if (!response.headersSent) reply(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });

  const handleRequest = async (request: IncomingMessage, response: ServerResponse, origin: string): Promise<void> => {
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
      handlers.problem({ kind: 'refused', origin, message: `${status}: ${message}` });
      reply(response, status, { error: message }, { connection: 'close', ...headers });
      // The rest of the body is read and thrown away (bounded in time by the request timeout), so the client gets the answer.
      request.resume();
    };
    if (request.method !== 'POST') return refuse(405, 'POST JSON lines to this endpoint', { allow: 'POST' });
    const authorization = request.headers.authorization;
    if (typeof authorization !== 'string' || !timingSafeEqual(digest(authorization), expected)) {
      return refuse(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) return refuse(413, `body of ${declared} bytes is larger than the limit of ${maxBodyBytes}`);
    const body = await readBody(request, maxBodyBytes);
    if (!body) return refuse(413, `body is larger than the limit of ${maxBodyBytes} bytes`);
    const parsed = parseBody(body, maxLineBytes);
    if ('status' in parsed) {
      handlers.problem({ kind: parsed.status === 413 ? 'oversized' : 'malformed', origin, ...(parsed.line ? { line: parsed.line } : {}), message: parsed.message });
      reply(response, parsed.status, { error: parsed.line ? `line ${parsed.line}: ${parsed.message}` : parsed.message, ...(parsed.line ? { line: parsed.line } : {}) });
      return;
    }
    for (const { value, line } of parsed.values) handlers.value(value, { origin, line });
    reply(response, 200, { accepted: parsed.values.length });
  };

  await listen(server, options.port, host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  name = `http ${host}:${port}`;
  handlers.listening?.({ host, port });
  try {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await closeServer(server);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}

/** The body, or undefined once it grows past the limit (the rest is then discarded unread by the caller). */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      request.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        settle();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

type ParsedBody = { values: { value: unknown; line: number }[] } | { status: 400 | 413; line?: number; message: string };

/** One JSON document (Falco's http_output, possibly pretty-printed), or JSON lines; one bad line refuses the whole body. */
export function parseBody(body: Buffer, maxLineBytes: number): ParsedBody {
  if (body.length <= maxLineBytes) {
    const whole = parseLine(body);
    if ('value' in whole) return { values: [{ value: whole.value, line: 1 }] };
  }
  const values: { value: unknown; line: number }[] = [];
  let line = 0;
  let start = 0;
  while (start <= body.length) {
    const newline = body.indexOf(0x0a, start);
    const end = newline < 0 ? body.length : newline;
    line += 1;
    if (end - start > maxLineBytes) return { status: 413, line, message: `line of ${end - start} bytes is longer than the limit of ${maxLineBytes}` };
    const parsed = parseLine(body.subarray(start, end));
    if ('error' in parsed) return { status: 400, line, message: parsed.error };
    if ('value' in parsed) values.push({ value: parsed.value, line });
    start = end + 1;
  }
  if (values.length === 0) return { status: 400, message: 'empty body: POST one JSON object, or JSON lines' };
  return { values };
}
