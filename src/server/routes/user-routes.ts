/** Users, managed by admins. */
import { createUser, listUsers } from '../auth/users.ts';
import { createUserRequest, userListResponse, userView } from '../schemas/user-schemas.ts';
import { defineRoute } from '../server-route.ts';

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
      const user = await createUser(context.db, request.body, context.now());
      reply.code(201);
      return user;
    },
  }),
};
