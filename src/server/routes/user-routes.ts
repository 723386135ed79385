/**
 * Users: admins list, create, re-role, reset, disable, enable and delete them (never the last enabled admin);
 * every user changes their own password with the current one. Each change lands in the audit trail.
 */
import { NomineError } from '../../core/errors.ts';
import { changeOwnPassword, deleteUser, resetUserPassword, setUserDisabled, setUserRole } from '../auth/user-management.ts';
import { createUser, listUsers } from '../auth/users.ts';
import { RateLimitedError } from '../http-status.ts';
import { idParams } from '../schemas/common-schemas.ts';
import { changeOwnPasswordRequest, createUserRequest, resetPasswordRequest, setRoleRequest, userListResponse, userView } from '../schemas/user-schemas.ts';
import { actingAs, defineRoute, principalOf } from '../server-route.ts';

export const userRoutes = {
  listUsers: defineRoute({
    method: 'GET',
    url: '/api/users',
    access: 'admin',
    summary: 'List users',
    tags: ['users'],
    schema: { response: { 200: userListResponse } },
    handler: async (_request, _reply, context) => ({ users: await listUsers(context.db) }),
  }),
  createUser: defineRoute({
    method: 'POST',
    url: '/api/users',
    access: 'admin',
    summary: 'Create a user with the role admin or viewer',
    tags: ['users'],
    schema: { body: createUserRequest, response: { 201: userView } },
    handler: async (request, reply, context) => {
      const { actor, now } = actingAs(request, context);
      const user = await createUser(context.db, request.body, now, actor);
      reply.code(201);
      return user;
    },
  }),
  setUserRole: defineRoute({
    method: 'POST',
    url: '/api/users/:id/role',
    access: 'admin',
    summary: 'Change a user\'s role; the last enabled admin cannot lose it',
    tags: ['users'],
    schema: { params: idParams, body: setRoleRequest, response: { 200: userView } },
    handler: async (request, _reply, context) =>
      setUserRole(context.db, request.params.id, request.body.role, actingAs(request, context)),
  }),
  resetUserPassword: defineRoute({
    method: 'POST',
    url: '/api/users/:id/password',
    access: 'admin',
    summary: 'Set a new password for a user; every session of that user ends',
    tags: ['users'],
    schema: { params: idParams, body: resetPasswordRequest },
    handler: async (request, reply, context) => {
      await resetUserPassword(context.db, request.params.id, request.body.password, actingAs(request, context));
      reply.code(204);
      return null;
    },
  }),
  disableUser: defineRoute({
    method: 'POST',
    url: '/api/users/:id/disable',
    access: 'admin',
    summary: 'Disable a user: their sessions end and they cannot log in; never the last enabled admin',
    tags: ['users'],
    schema: { params: idParams, response: { 200: userView } },
    handler: async (request, _reply, context) =>
      setUserDisabled(context.db, request.params.id, true, actingAs(request, context)),
  }),
  enableUser: defineRoute({
    method: 'POST',
    url: '/api/users/:id/enable',
    access: 'admin',
    summary: 'Enable a disabled user again',
    tags: ['users'],
    schema: { params: idParams, response: { 200: userView } },
    handler: async (request, _reply, context) =>
      setUserDisabled(context.db, request.params.id, false, actingAs(request, context)),
  }),
  deleteUser: defineRoute({
    method: 'DELETE',
    url: '/api/users/:id',
    access: 'admin',
    summary: 'Delete a user and end their sessions; never the last enabled admin',
    tags: ['users'],
    schema: { params: idParams },
    handler: async (request, reply, context) => {
      await deleteUser(context.db, request.params.id, actingAs(request, context));
      reply.code(204);
      return null;
    },
  }),
  changeOwnPassword: defineRoute({
    method: 'POST',
    url: '/api/me/password',
    access: 'authenticated',
    summary: 'Change your own password (the current one is required); your other sessions end',
    tags: ['users'],
    schema: { body: changeOwnPasswordRequest },
    handler: async (request, reply, context) => {
      const principal = principalOf(request);
      if (principal.kind !== 'user') throw new NomineError('invalid-input', 'API tokens have no password: an admin creates a new token instead', 'authorization');
      // Wrong current passwords count as failed logins: a stolen session must not become a password oracle.
      const now = context.now();
      const key = principal.username.toLowerCase();
      const wait = await context.loginThrottle.perUser.retryAfterSeconds(key, now);
      if (wait > 0) throw new RateLimitedError(`too many wrong passwords: try again in ${wait} s`, wait, 'body.currentPassword');
      const changed = await changeOwnPassword(context.db, {
        userId: principal.userId,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
        sessionHash: principal.sessionHash,
        now,
      });
      if (!changed) {
        await context.loginThrottle.perUser.record(key, now);
        context.metrics.loginFailures.inc();
        throw new NomineError('forbidden', 'the current password is wrong', 'body.currentPassword');
      }
      reply.code(204);
      return null;
    },
  }),
};
