/**
 * Agents: join tokens (admins), enrolment with a join token (public, throttled per address), batch delivery
 * (entities, event summaries, profiles, alerts) and profile sync (the agent's own credential only), and the list
 * and revocation of agents (admins).
 */
import { NomineError } from '../../core/errors.ts';
import { principalKey } from '../auth/principal.ts';
import { enrolAgent, listAgents, revokeAgent } from '../fleet/agents.ts';
import { ingestBatch, prepareBatch } from '../fleet/ingest-batch.ts';
import { createJoinToken, listJoinTokens, revokeJoinToken } from '../fleet/join-tokens.ts';
import { syncProfiles } from '../fleet/sync-profiles.ts';
import { RateLimitedError } from '../http-status.ts';
import {
  agentBatch,
  agentListResponse,
  agentView,
  batchResponse,
  createJoinTokenRequest,
  createJoinTokenResponse,
  enrolRequest,
  enrolResponse,
  joinTokenListResponse,
  joinTokenView,
  syncQuery,
  syncResponse,
} from '../schemas/agent-schemas.ts';
import { idParams } from '../schemas/common-schemas.ts';
import { defineRoute, principalOf } from '../server-route.ts';
import { replayHeader } from './report-routes.ts';

function agentIdOf(request: Parameters<typeof principalOf>[0]): string {
  const principal = principalOf(request);
  // The `agent` access level admits nothing else; this keeps the type honest.
  if (principal.kind !== 'agent') throw new Error('agent route reached without an agent principal');
  return principal.agentId;
}

export const agentRoutes = {
  joinTokenCreate: defineRoute({
    method: 'POST',
    url: '/api/join-tokens',
    access: 'admin',
    summary: 'Create a join token for enrolling agents; the token is in this answer only',
    tags: ['agents'],
    schema: { body: createJoinTokenRequest, response: { 201: createJoinTokenResponse } },
    handler: async (request, reply, context) => {
      const { token, view } = await createJoinToken(
        context.db,
        { name: request.body.name, ttlSeconds: request.body.ttlSeconds, ...(request.body.maxUses !== undefined ? { maxUses: request.body.maxUses } : {}), createdBy: principalKey(principalOf(request)) },
        context.now(),
      );
      reply.code(201);
      return { token, details: view };
    },
  }),
  joinTokenList: defineRoute({
    method: 'GET',
    url: '/api/join-tokens',
    access: 'admin',
    summary: 'List join tokens (never the tokens themselves)',
    tags: ['agents'],
    schema: { response: { 200: joinTokenListResponse } },
    handler: async (_request, _reply, context) => ({ joinTokens: await listJoinTokens(context.db) }),
  }),
  joinTokenRevoke: defineRoute({
    method: 'DELETE',
    url: '/api/join-tokens/:id',
    access: 'admin',
    summary: 'Revoke a join token: no further enrolments with it (agents already enrolled keep their credential)',
    tags: ['agents'],
    schema: { params: idParams, response: { 200: joinTokenView } },
    handler: async (request, _reply, context) => revokeJoinToken(context.db, request.params.id, principalKey(principalOf(request)), context.now()),
  }),
  agentEnrol: defineRoute({
    method: 'POST',
    url: '/api/agents/enrol',
    access: 'public',
    summary: "Enrol an agent with a join token; answers the agent's own credential, once",
    tags: ['agents'],
    schema: { body: enrolRequest, response: { 201: enrolResponse } },
    handler: async (request, reply, context) => {
      const now = context.now();
      // Failed enrolments per address, counted in the store like failed logins (every replica counts them). Only
      // failures count: nodes of a cluster behind one NAT address enrol at once, each with a valid token.
      const throttle = context.loginThrottle.enrolPerIp;
      const wait = await throttle.retryAfterSeconds(request.ip, now);
      if (wait > 0) throw new RateLimitedError(`too many failed enrolments from this address: try again in ${wait} s`, wait, 'enrol');
      try {
        const enrolled = await enrolAgent(context.db, { ...request.body, ip: request.ip }, now);
        reply.code(201);
        return enrolled;
      } catch (error) {
        // Only refusals of the token count (a store failure is not the client's guess).
        if (error instanceof NomineError && (error.code === 'unauthorized' || error.code === 'forbidden')) await throttle.record(request.ip, now);
        throw error;
      }
    },
  }),
  agentBatch: defineRoute({
    method: 'POST',
    url: '/api/agents/batches',
    access: 'agent',
    summary: 'Deliver what a node saw; idempotent by batchId (a replay gets the first answer, other content under the same id 409)',
    tags: ['agents'],
    bodyLimit: (limits) => limits.maxAgentBatchBytes,
    schema: { body: agentBatch, response: { 200: batchResponse } },
    handler: async (request, reply, context) => {
      const answer = await ingestBatch(context.db, agentIdOf(request), prepareBatch(request.body), context.now());
      reply.header(replayHeader, String(answer.replayed));
      return answer;
    },
  }),
  agentSync: defineRoute({
    method: 'GET',
    url: '/api/agents/sync',
    access: 'agent',
    summary: 'Fleet profiles, modes, approvals and relearn requests changed since the revision the agent applied',
    tags: ['agents'],
    schema: { querystring: syncQuery, response: { 200: syncResponse } },
    handler: async (request, _reply, context) => syncProfiles(context.db, agentIdOf(request), request.query.since),
  }),
  agentList: defineRoute({
    method: 'GET',
    url: '/api/agents',
    access: 'admin',
    summary: 'List enrolled agents',
    tags: ['agents'],
    schema: { response: { 200: agentListResponse } },
    handler: async (_request, _reply, context) => ({ agents: await listAgents(context.db) }),
  }),
  agentRevoke: defineRoute({
    method: 'DELETE',
    url: '/api/agents/:id',
    access: 'admin',
    summary: "Revoke an agent: its credential is refused from now on",
    tags: ['agents'],
    schema: { params: idParams, response: { 200: agentView } },
    handler: async (request, _reply, context) => revokeAgent(context.db, request.params.id, principalKey(principalOf(request)), context.now()),
  }),
};
