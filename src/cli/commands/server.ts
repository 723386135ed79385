/**
 * `nomine server`: the console's HTTP API on the store in $NOMINE_HOME, or on PostgreSQL with `--db URL`. No default
 * credentials: the first start prints a one-time setup link, or creates `admin` from NOMINE_ADMIN_PASSWORD without
 * ever printing it.
 */
import { readFileSync } from 'node:fs';
import { Command, Option, InvalidArgumentError } from 'commander';
import { NomineError } from '../../core/errors.ts';
import { resolveDataHome } from '../../platform/data-home.ts';
import { bootstrap } from '../../server/auth/setup-link.ts';
import { buildServer } from '../../server/build-server.ts';
import { defaultWebRoot, hasWebBuild } from '../../server/web-ui.ts';
import { defaultServerLimits } from '../../server/server-limits.ts';
import { openServerStore } from '../../server/server-store.ts';
import { isPostgresUrl, redactUrl, withPassword } from '../../store/store-location.ts';
import { toolVersion } from '../tool-version.ts';

interface ServerFlags {
  listen: ListenAddress;
  tlsCert?: string;
  tlsKey?: string;
  publicUrl?: string;
  logLevel: string;
  db?: string;
  dbPasswordFile?: string;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (loopback). Port 0 picks a free one. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) throw new InvalidArgumentError('expected HOST:PORT, [IPV6]:PORT or :PORT (port 0 picks a free one)');
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new NomineError('not-found', `cannot read the TLS ${what}: ${(error as Error).message}`, `file ${file}`, { cause: error });
  }
}

export function serverCommand(): Command {
  return new Command('server')
    .description('run the console: the web UI and its API (users and roles, API tokens, agents, scan/audit/probe reports, metrics)')
    .addOption(new Option('--listen <host:port>', 'address to listen on').argParser(parseListenAddress).default(parseListenAddress('127.0.0.1:7480'), '127.0.0.1:7480'))
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key); session cookies are then Secure')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--public-url <url>', 'the URL people reach the server at, for the setup link (default: the listen address)')
    .option('--log-level <level>', 'request log level (fatal, error, warn, info, debug)', 'warn')
    .option('--db <url>', 'store on PostgreSQL: postgres://USER@HOST:PORT/DATABASE (default: SQLite in $NOMINE_HOME; env NOMINE_DB_URL)')
    .option('--db-password-file <file>', "read the PostgreSQL password from this file, so it is not in the URL (nor in `ps`)")
    .addHelpText(
      'after',
      '\nFirst start: prints a one-time setup link to create the first admin, unless NOMINE_ADMIN_PASSWORD is set\n(then the user `admin` gets that password). Listen on loopback or give --tls-cert/--tls-key.',
    )
    .action(async (flags: ServerFlags) => {
      await runServer(flags);
    });
}

async function runServer(flags: ServerFlags): Promise<void> {
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new NomineError('invalid-input', '--tls-cert and --tls-key go together', 'server');
  const tls = flags.tlsCert && flags.tlsKey ? { cert: readPem(flags.tlsCert, 'certificate'), key: readPem(flags.tlsKey, 'key') } : undefined;
  const adminPassword = process.env.NOMINE_ADMIN_PASSWORD;
  // Children of this process (none today) must not inherit the secret.
  delete process.env.NOMINE_ADMIN_PASSWORD;
  const dbUrl = flags.db ?? process.env.NOMINE_DB_URL;
  delete process.env.NOMINE_DB_URL;
  if (flags.dbPasswordFile !== undefined && dbUrl === undefined) throw new NomineError('invalid-input', '--db-password-file goes with --db (or NOMINE_DB_URL)', 'server');
  const db = await openServerStore(dbUrl !== undefined ? postgresTarget(dbUrl, flags.dbPasswordFile) : resolveDataHome());
  try {
    const boot = await bootstrap(db, { ...(adminPassword !== undefined ? { adminPassword } : {}), now: Date.now(), setupLinkTtlMs: defaultServerLimits.setupLinkTtlMs });
    const webRoot = hasWebBuild(defaultWebRoot) ? defaultWebRoot : undefined;
    const app = await buildServer({ db, ...(tls ? { tls } : {}), ...(webRoot ? { webRoot } : {}), logger: { level: flags.logLevel }, version: toolVersion() });
    const address = await app.listen({ host: flags.listen.host, port: flags.listen.port });
    const base = (flags.publicUrl ?? address).replace(/\/+$/, '');
    // One write: whoever reads the output (a person, a test, `make demo`) gets the URL and the link together.
    const lines = [`nomine server listening on ${address}`];
    if (boot.state === 'admin-from-environment') lines.push(`created the user ${boot.username} with the password from NOMINE_ADMIN_PASSWORD`);
    // The token travels in the fragment, which browsers never send to servers or in Referer headers.
    if (boot.state === 'setup-link') lines.push(`one-time setup link (single use, valid until ${new Date(boot.expiresAt).toISOString()}): ${base}/setup#token=${boot.token}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!webRoot) process.stderr.write(`nomine: warning: the web UI is not built (no ${defaultWebRoot}index.html): run \`npm run build\`; serving the API only\n`);
    if (!tls && !isLoopback(flags.listen.host)) process.stderr.write('nomine: warning: serving plain HTTP on a non-loopback address; give --tls-cert and --tls-key\n');
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await app.close();
  } finally {
    await db.destroy();
  }
}

/** The URL to connect with: checked, with the password from the file (its trailing newline dropped) put in. */
export function postgresTarget(url: string, passwordFile: string | undefined): string {
  if (!isPostgresUrl(url)) throw new NomineError('invalid-input', 'expected a postgres:// or postgresql:// URL', `--db ${redactUrl(url)}`);
  if (passwordFile === undefined) return url;
  let password: string;
  try {
    password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new NomineError('not-found', `cannot read the database password: ${(error as Error).message}`, `file ${passwordFile}`, { cause: error });
  }
  if (password === '') throw new NomineError('invalid-input', 'the database password file is empty', `file ${passwordFile}`);
  return withPassword(url, password);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
