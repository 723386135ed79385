/**
 * The server's error boundary: every failure becomes `{ error: { code, message } }` with a status derived from the
 * NomineError code, so clients branch on `code` and people read `message`.
 */
import { NomineError, type ErrorCode } from '../core/errors.ts';

export const statusOfCode: Record<ErrorCode, number> = {
  'invalid-input': 400,
  unsupported: 415,
  'limit-exceeded': 413,
  unreachable: 503,
  timeout: 504,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  internal: 500,
};

/** Too many attempts: `limit-exceeded`, but answered 429 with Retry-After rather than 413. */
export class RateLimitedError extends NomineError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    part?: string,
  ) {
    super('limit-exceeded', message, part);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(error: NomineError): ErrorBody {
  return { error: { code: error.code, message: error.describe() } };
}
