/** API tokens: created by admins, shown once, revocable. */
import { z } from 'zod';
import { tokenRoles } from '../auth/principal.ts';

export const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(tokenRoles),
  createdAt: z.string(),
  /** Who created it (`user:<id>`, `token:<id>`): a disabled user's tokens stay valid, so an admin can find them here. */
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

export const createTokenRequest = z.strictObject({
  name: z.string().min(1).max(100),
  role: z.enum(tokenRoles),
  /** Lifetime in days; omitted, the token lasts until revoked. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const createTokenResponse = z.object({
  /** The secret, shown this once: the server keeps only its SHA-256. */
  token: z.string(),
  details: tokenView,
});

export const tokenListResponse = z.object({ tokens: z.array(tokenView) });
