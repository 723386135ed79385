/**
 * Where the store lives: an embedded SQLite file in a data directory (the default), or a PostgreSQL database named
 * by a `postgres://` URL. A URL is only ever shown with its password replaced, so errors and logs can name it.
 */
import { NomineError } from '../core/errors.ts';

export type StoreLocation = { kind: 'sqlite'; home: string } | { kind: 'postgres'; url: string };

const postgresScheme = /^postgres(?:ql)?:\/\//i;

export function isPostgresUrl(target: string): boolean {
  return postgresScheme.test(target.trim());
}

/** A data directory, or a PostgreSQL URL (checked here: a typo fails before any connection is tried). */
export function storeLocationOf(target: string): StoreLocation {
  if (!isPostgresUrl(target)) return { kind: 'sqlite', home: target };
  return { kind: 'postgres', url: checkedPostgresUrl(target.trim()) };
}

/** The URL with a password put in (from a file, so it never shows in `ps`); one already in the URL is replaced. */
export function withPassword(url: string, password: string): string {
  const parsed = parseUrl(url);
  if (!parsed.username) throw new NomineError('invalid-input', 'a password needs a user name in the URL (postgres://USER@HOST/DB)', redactUrl(url));
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** The URL as it may be shown: `postgres://user:***@host:5432/db`, query passwords too. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString().replace('%2A%2A%2A', '***');
  } catch {
    // Unparseable: cut anything between `//user:` and `@`, and any password parameter.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(pass\w*=)[^&]*/gi, '$1***');
  }
}

/** The database name, for messages and for tests that create and drop databases. */
export function databaseOf(url: string): string {
  return decodeURIComponent(parseUrl(url).pathname.replace(/^\//, ''));
}

function checkedPostgresUrl(url: string): string {
  const parsed = parseUrl(url);
  if (!parsed.hostname && !parsed.searchParams.get('host')) throw new NomineError('invalid-input', 'the PostgreSQL URL names no host: postgres://USER@HOST:PORT/DATABASE', redactUrl(url));
  const database = databaseOf(url);
  if (!database || database.includes('/')) throw new NomineError('invalid-input', 'the PostgreSQL URL names no database: postgres://USER@HOST:PORT/DATABASE', redactUrl(url));
  return url;
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new NomineError('invalid-input', 'not a valid PostgreSQL URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE', redactUrl(url));
  }
}
