/** API tokens, managed by admins: created (the secret is shown once), listed, revoked. */
import { createApiToken, listApiTokens, revokeApiToken } from '../auth/api-tokens.ts';
import { principalKey } from '../auth/principal.ts';
import { idParams } from '../schemas/common-schemas.ts';
import { createTokenRequest, createTokenResponse, tokenListResponse, tokenView } from '../schemas/token-schemas.ts';
import { defineRoute, principalOf } from '../server-route.ts';

const day = 86_400_000;

export const tokenRoutes = {
  listTokens: defineRoute({
    method: 'GET',
    url: '/api/tokens',
    access: 'admin',
    summary: 'List API tokens (never their secrets)',
    tags: ['tokens'],
    schema: { response: { 200: tokenListResponse } },
    handler: async (_request, _reply, context) => ({ tokens: await listApiTokens(context.db) }),
  }),
  createToken: defineRoute({
    method: 'POST',
    url: '/api/tokens',
    access: 'admin',
    summary: 'Create an API token; its secret is in this answer only',
    tags: ['tokens'],
    schema: { body: createTokenRequest, response: { 201: createTokenResponse } },
    handler: async (request, reply, context) => {
      const now = context.now();
      const { token, view } = await createApiToken(
        context.db,
        {
          name: request.body.name,
          role: request.body.role,
          createdBy: principalKey(principalOf(request)),
          ...(request.body.expiresInDays ? { expiresAt: now + request.body.expiresInDays * day } : {}),
        },
        now,
      );
      reply.code(201);
      return { token, details: view };
    },
  }),
  revokeToken: defineRoute({
    method: 'DELETE',
    url: '/api/tokens/:id',
    access: 'admin',
    summary: 'Revoke an API token; requests with it get 401 from now on',
    tags: ['tokens'],
    schema: { params: idParams, response: { 200: tokenView } },
    handler: async (request, _reply, context) => revokeApiToken(context.db, request.params.id, context.now()),
  }),
};
