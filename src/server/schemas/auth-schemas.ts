/** Setup, login and identity. */
import { z } from 'zod';
import { tokenRoles, userRoles } from '../auth/principal.ts';
import { password, username } from './common-schemas.ts';

export const setupStatusResponse = z.object({ setupNeeded: z.boolean() });

export const setupRequest = z.strictObject({
  token: z.string().min(1).max(256),
  username,
  password,
});

export const loginRequest = z.strictObject({ username: z.string().min(1).max(64), password });

export const userView = z.object({ id: z.string(), username: z.string(), role: z.enum(userRoles), createdAt: z.string() });

export const loginResponse = z.object({
  user: z.object({ id: z.string(), username: z.string(), role: z.enum(userRoles) }),
  /** Send it back as X-CSRF-Token on every state-changing request made with the session cookie. */
  csrfToken: z.string(),
  expiresAt: z.string(),
});

export const meResponse = z.object({
  kind: z.enum(['user', 'token']),
  id: z.string(),
  name: z.string(),
  role: z.enum(tokenRoles),
  csrfToken: z.string().optional(),
});
