/** Schemas every route shares: the error envelope, ids, list limits. One source for validation and OpenAPI. */
import { z } from 'zod';
import { errorCodes } from '../../core/errors.ts';

export const errorResponse = z.object({
  error: z.object({ code: z.enum(errorCodes), message: z.string() }),
});

export const idParams = z.strictObject({ id: z.uuid() });

export const username = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits, dot, dash and underscore, starting with a letter or digit');

/** Bounded before argon2 sees it; the length policy itself is checked with a message that states it. */
export const password = z.string().max(1024);

export const isoTime = z.string().describe('ISO 8601 time');
