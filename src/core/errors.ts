/**
 * NomineError: the one error that aborts an operation. A closed set of codes, a message a person can act on,
 * and `part`, naming what is at fault (`layer sha256:ab12…`, `registry 127.0.0.1:5000`). Boundaries (CLI, server)
 * normalise anything else into it once, with `toNomineError`.
 */
export const errorCodes = [
  'invalid-input',
  'unsupported',
  'limit-exceeded',
  'unreachable',
  'timeout',
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export class NomineError extends Error {
  override readonly name = 'NomineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly part?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** One line for a terminal: `registry 127.0.0.1:5000: unauthorized: …`. */
  describe(): string {
    return `${this.part ? `${this.part}: ` : ''}${this.message}`;
  }
}

export function isNomineError(value: unknown): value is NomineError {
  return value instanceof NomineError;
}

const systemCodes: Record<string, ErrorCode> = {
  ENOENT: 'not-found',
  EACCES: 'forbidden',
  EPERM: 'forbidden',
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  ETIMEDOUT: 'timeout',
  Z_DATA_ERROR: 'invalid-input',
  Z_BUF_ERROR: 'invalid-input',
};

export function toNomineError(error: unknown, part?: string): NomineError {
  if (error instanceof NomineError) return error;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const mapped = (code && systemCodes[code]) || (error.name === 'AbortError' || error.name === 'TimeoutError' ? 'timeout' : 'internal');
    return new NomineError(mapped, error.message, part, { cause: error });
  }
  return new NomineError('internal', String(error), part);
}
