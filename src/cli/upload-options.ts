/**
 * Where `nomine scan|audit|probe` sends its report, read from flags (`--server`, `--token-file`, `--ca-file`) or the
 * environment (NOMINE_SERVER, NOMINE_TOKEN, NOMINE_TOKEN_FILE, NOMINE_CA_FILE); flags win. There is no `--token`
 * flag on purpose: a command line is visible to every user of the machine in `ps`. Resolved before the run, so
 * a missing token file fails in a second rather than after an hour-long scan; and `uploadAfterRun` sends the report
 * after the tool has printed it, turning a failed upload into exit code 2.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { NomineError } from '../core/errors.ts';
import type { ReportKind } from '../server/schemas/report-schemas.ts';
import { exitCodes } from './exit-codes.ts';
import type { UploadDependencies, UploadSettings, UploadTarget } from './report-upload.ts';
import { toolVersion } from './tool-version.ts';

export interface UploadFlags {
  server?: string;
  tokenFile?: string;
  caFile?: string;
}

/** A token file is one line; more than this is the wrong file. */
export const maxTokenFileBytes = 4096;
/** A CA bundle; the system's whole trust store is ~200 KiB. */
export const maxCaFileBytes = 1024 * 1024;

export function addUploadOptions(command: Command): Command {
  return command
    .option('--server <url>', 'after the run, send the JSON report to this nomine console (or NOMINE_SERVER)')
    .option('--token-file <file>', 'file holding the console API token, role ingest (or NOMINE_TOKEN_FILE, or the token in NOMINE_TOKEN)')
    .option('--ca-file <pem>', "CA certificate(s) that issued the console's TLS certificate, for a private CA (or NOMINE_CA_FILE)");
}

/** The upload target, or undefined when no server is named; throws `invalid-input` naming the flag at fault. */
export function resolveUploadTarget(flags: UploadFlags, env: NodeJS.ProcessEnv = process.env): UploadTarget | undefined {
  const serverText = flags.server ?? nonEmpty(env.NOMINE_SERVER);
  const tokenFile = flags.tokenFile ?? nonEmpty(env.NOMINE_TOKEN_FILE);
  const caFile = flags.caFile ?? nonEmpty(env.NOMINE_CA_FILE);
  if (serverText === undefined) {
    if (flags.tokenFile !== undefined || flags.caFile !== undefined) throw new NomineError('invalid-input', '--token-file and --ca-file go with --server (or NOMINE_SERVER)', '--server');
    return undefined;
  }
  const server = parseServerUrl(serverText, flags.server !== undefined ? '--server' : 'NOMINE_SERVER');
  let token: string;
  if (tokenFile !== undefined) token = checkToken(readSmallFile(tokenFile, maxTokenFileBytes, 'token file'), `token file ${tokenFile}`);
  else if (nonEmpty(env.NOMINE_TOKEN) !== undefined) token = checkToken(env.NOMINE_TOKEN!, 'NOMINE_TOKEN');
  else throw new NomineError('invalid-input', 'sending a report needs an API token of role ingest: give --token-file FILE (or NOMINE_TOKEN_FILE, or NOMINE_TOKEN)', '--server');
  const target: UploadTarget = { server, token };
  if (caFile !== undefined) {
    const pem = readSmallFile(caFile, maxCaFileBytes, 'CA file');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new NomineError('invalid-input', 'the CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)', `CA file ${caFile}`);
    if (!server.startsWith('https:')) throw new NomineError('invalid-input', '--ca-file is for an https:// server', '--ca-file');
    target.ca = pem;
  }
  return target;
}

/** http(s), no credentials, query or fragment; returned without a trailing slash. */
export function parseServerUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new NomineError('invalid-input', `"${text}" is not a URL: expected http(s)://HOST[:PORT][/PATH]`, source);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NomineError('invalid-input', `the console URL must be http or https, not ${url.protocol}`, source);
  // Never echo the URL back here: it holds a secret.
  if (url.username || url.password) throw new NomineError('invalid-input', 'the console URL must not hold credentials: put the API token in --token-file', source);
  if (url.search || url.hash) throw new NomineError('invalid-input', 'the console URL must not have a query or fragment', source);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** One line of printable ASCII, as the console issues them (`nmn_…`); surrounding whitespace is dropped. */
export function checkToken(raw: string, source: string): string {
  const token = raw.trim();
  if (token === '') throw new NomineError('invalid-input', 'the API token is empty', source);
  if (token.length > 512) throw new NomineError('invalid-input', `the API token is ${token.length} characters long: that is not a token`, source);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new NomineError('invalid-input', 'the API token must be one line of printable characters without spaces', source);
  return token;
}

function readSmallFile(file: string, maxBytes: number, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new NomineError('not-found', `cannot read the ${what}: ${(error as Error).message}`, file, { cause: error });
  }
  try {
    // One byte more than allowed tells "too large" apart from "exactly the limit", without reading /dev/zero forever.
    const buffer = Buffer.alloc(maxBytes + 1);
    let size = 0;
    for (;;) {
      const read = readSync(fd, buffer, size, buffer.length - size, null);
      if (read === 0) break;
      size += read;
      if (size > maxBytes) throw new NomineError('limit-exceeded', `the ${what} is larger than ${maxBytes} bytes`, file);
    }
    return buffer.subarray(0, size).toString('utf8');
  } catch (error) {
    if (error instanceof NomineError) throw error;
    throw new NomineError('invalid-input', `cannot read the ${what}: ${(error as Error).message}`, file, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export interface UploadAfterRun {
  target: UploadTarget | undefined;
  kind: ReportKind;
  /** The report as `--json` prints it; rendered only when there is a server to send it to. */
  renderJson: () => string;
  /** The tool's own exit code. */
  exitCode: number;
  settings?: UploadSettings;
  dependencies?: UploadDependencies;
  stderr?: { write(text: string): unknown };
}

/**
 * Sends the report when a server is named and returns the exit code: the tool's own, or 2 when the upload
 * failed (2 is already the worst the tools return, so a failed upload never hides a worse result).
 */
export async function uploadAfterRun(run: UploadAfterRun): Promise<number> {
  if (!run.target) return run.exitCode;
  const stderr = run.stderr ?? process.stderr;
  try {
    // Loaded only when a server is named: its HTTP client is start-up time every other run would pay.
    const { uploadReport, defaultUploadSettings } = await import('./report-upload.ts');
    const receipt = await uploadReport(
      run.target,
      { kind: run.kind, tool: { name: 'nomine', version: toolVersion() }, generatedAt: new Date().toISOString(), reportJson: run.renderJson() },
      run.settings ?? defaultUploadSettings,
      {
        onRetry: ({ attempt, reason, delayMs }) => stderr.write(`nomine: server ${run.target!.server}: try ${attempt} failed (${reason}); retrying in ${(delayMs / 1000).toFixed(1)} s\n`),
        ...run.dependencies,
      },
    );
    stderr.write(`nomine: ${run.kind} report ${receipt.replayed ? 'was already stored' : 'stored'} on ${run.target.server} as ${receipt.id}\n`);
    return run.exitCode;
  } catch (error) {
    const failure = error instanceof NomineError ? error : new NomineError('internal', (error as Error).message, `server ${run.target.server}`);
    stderr.write(`nomine: ${failure.code}: ${failure.describe()}\n`);
    return Math.max(run.exitCode, exitCodes.error);
  }
}
