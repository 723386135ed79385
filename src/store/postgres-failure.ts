/**
 * What a PostgreSQL failure means for the caller: the database cannot be reached (down, restarting, our connection
 * terminated, no free connection), it refused our credentials, or the database does not exist. Those become one
 * NomineError naming the store by its redacted URL; anything else (a constraint violation, a bad query) is left
 * as it is, so callers can still read its SQLSTATE (`23505` and friends).
 */
import { NomineError } from '../core/errors.ts';

interface DriverError {
  code?: unknown;
  message?: unknown;
}

// Node's socket errors, as pg passes them on.
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED']);
// Class 08 (connection exception); 57P01-03: terminated by an administrator, crash shutdown, cannot connect now
// (starting up, shutting down); 53300: too many connections.
const unavailableStates = /^(08...|57P0[123]|53300)$/;
// pg says these without a code.
const unavailableMessages = /connection terminated|timeout exceeded when trying to connect|not queryable|connection error|server closed the connection|terminating connection/i;

/**
 * The failure as a NomineError when it is about reaching the database, else undefined. `connecting` is true for
 * errors raised while a connection was being made: then every failure is one of reaching it.
 */
export function postgresFailure(error: unknown, where: string, connecting: boolean): NomineError | undefined {
  if (error instanceof NomineError) return error;
  const { code, message } = (error ?? {}) as DriverError;
  const text = typeof message === 'string' ? message : String(error);
  const part = `store ${where}`;
  if (code === '28P01' || code === '28000') return new NomineError('unauthorized', `PostgreSQL refused the credentials: ${text}`, part, { cause: error });
  if (code === '3D000') return new NomineError('not-found', `PostgreSQL has no such database (create it, or fix the URL): ${text}`, part, { cause: error });
  const unavailable =
    (typeof code === 'string' && (socketCodes.has(code) || unavailableStates.test(code))) || unavailableMessages.test(text) || (connecting && code === '55000');
  if (unavailable || connecting) return new NomineError('unreachable', `PostgreSQL does not answer: ${text || 'connection failed'}`, part, { cause: error });
  return undefined;
}
