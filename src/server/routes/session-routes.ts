/** First-admin setup, login, logout and who-am-I. */
import { NomineError } from '../../core/errors.ts';
import { RateLimitedError } from '../http-status.ts';
import { verifyPassword } from '../auth/password.ts';
import type { UserRole } from '../auth/principal.ts';
import { createSession, endSession } from '../auth/sessions.ts';
import { completeSetup } from '../auth/setup-link.ts';
import { hasUsers } from '../auth/users.ts';
import { loginRequest, loginResponse, meResponse, setupRequest, setupStatusResponse, userView } from '../schemas/auth-schemas.ts';
import { defineRoute, principalOf } from '../server-route.ts';

export const sessionRoutes = {
  setupStatus: defineRoute({
    method: 'GET',
    url: '/api/setup',
    access: 'public',
    summary: 'Whether the first admin still has to be created',
    tags: ['session'],
    schema: { response: { 200: setupStatusResponse } },
    handler: async (_request, _reply, context) => ({ setupNeeded: !(await hasUsers(context.db)) }),
  }),
  setup: defineRoute({
    method: 'POST',
    url: '/api/setup',
    access: 'public',
    summary: 'Create the first admin with the one-time token printed at the first start',
    tags: ['session'],
    schema: { body: setupRequest, response: { 201: userView } },
    handler: async (request, reply, context) => {
      const user = await completeSetup(context.db, request.body, context.now());
      reply.code(201);
      return user;
    },
  }),
  login: defineRoute({
    method: 'POST',
    url: '/api/login',
    access: 'public',
    summary: 'Log in: sets the session cookie and returns the CSRF token for later writes',
    tags: ['session'],
    schema: { body: loginRequest, response: { 200: loginResponse } },
    handler: async (request, reply, context) => {
      const now = context.now();
      const { perIp, perUser } = context.loginThrottle;
      const userKey = request.body.username.toLowerCase();
      // The address's attempt is counted and checked in one step (the store's upsert), so replicas cannot race past it.
      const userWait = await perUser.retryAfterSeconds(userKey, now);
      const wait = userWait > 0 ? userWait : await perIp.record(request.ip, now);
      if (wait > 0) throw new RateLimitedError(`too many login attempts: try again in ${wait} s`, wait, 'login');
      if (!(await hasUsers(context.db))) throw new NomineError('conflict', 'setup is not complete: open the one-time setup link the server printed at its first start', 'login');
      const user = await context.db.selectFrom('server_users').selectAll().where('username', '=', request.body.username).executeTakeFirst();
      if (!(await verifyPassword(user?.password_hash, request.body.password)) || !user) {
        await perUser.record(userKey, now);
        context.metrics.loginFailures.inc();
        throw new NomineError('unauthorized', 'wrong username or password', 'login');
      }
      // Only after the right password: a disabled account is not revealed to someone guessing.
      if (user.disabled_at !== null) throw new NomineError('forbidden', 'this account is disabled: ask an admin to enable it', 'login');
      await perUser.forget(userKey);
      const session = await createSession(context.db, user.id, now, context.limits);
      reply.setCookie(context.sessionCookie, session.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: context.secureCookies,
        maxAge: Math.floor(context.limits.sessionAbsoluteMs / 1000),
      });
      return {
        user: { id: user.id, username: user.username, role: user.role as UserRole },
        csrfToken: session.csrfToken,
        expiresAt: new Date(session.expiresAt).toISOString(),
      };
    },
  }),
  logout: defineRoute({
    method: 'POST',
    url: '/api/logout',
    access: 'authenticated',
    summary: 'End the current session',
    tags: ['session'],
    schema: {},
    handler: async (request, reply, context) => {
      const principal = principalOf(request);
      if (principal.kind !== 'user') throw new NomineError('invalid-input', 'API tokens have no session: revoke the token instead', 'logout');
      await endSession(context.db, principal.sessionHash);
      reply.clearCookie(context.sessionCookie, { path: '/', httpOnly: true, sameSite: 'strict', secure: context.secureCookies });
      reply.code(204);
      return null;
    },
  }),
  me: defineRoute({
    method: 'GET',
    url: '/api/me',
    access: 'authenticated',
    summary: 'Who this request is authenticated as (and, for sessions, the CSRF token)',
    tags: ['session'],
    schema: { response: { 200: meResponse } },
    handler: async (request) => {
      const principal = principalOf(request);
      // The `authenticated` level refuses agents' credentials before this runs.
      if (principal.kind === 'agent') throw new NomineError('forbidden', 'an agent credential has no console identity', 'me');
      return principal.kind === 'user'
        ? { kind: 'user' as const, id: principal.userId, name: principal.username, role: principal.role, csrfToken: principal.csrfToken }
        : { kind: 'token' as const, id: principal.tokenId, name: principal.name, role: principal.role };
    },
  }),
};
