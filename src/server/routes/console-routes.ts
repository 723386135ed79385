/**
 * What the web UI reads and does: overview, nodes, entities, profiles (approve, relearn, mode), alerts. Viewers
 * read; admins act, and every action is audited and takes a new profile revision that agents pick up at sync.
 */
import type { z } from 'zod';
import { listAlerts } from '../console/alert-query.ts';
import { getEntityDetail, listEntities } from '../console/entity-queries.ts';
import { listNodes } from '../console/node-queries.ts';
import { buildOverview } from '../console/overview.ts';
import { approveProfile, relearnProfile, setProfileMode, type ActionContext, type ActionOutcome } from '../console/profile-actions.ts';
import { getProfileDetail, listProfiles } from '../console/profile-queries.ts';
import {
  alertListResponse,
  alertQuery,
  emptyRequest,
  entityDetail,
  entityListResponse,
  entityParams,
  entityQuery,
  nodeListResponse,
  overviewQuery,
  overviewResponse,
  profileActionResponse,
  profileDetail,
  profileListResponse,
  profileParams,
  profileQuery,
  setModeRequest,
} from '../schemas/console-schemas.ts';
import { actingAs, defineRoute } from '../server-route.ts';
import type { ServerContext } from '../server-context.ts';

/**
 * Approve, relearn and set-mode share everything but the verb, the body and the action: each is admin-only, acts
 * as the caller, and answers the outcome with the profile as it now is.
 */
function profileActionRoute<B extends z.ZodType>(
  verb: string,
  summary: string,
  body: B,
  act: (db: ServerContext['db'], id: string, context: ActionContext, body: z.output<B>) => Promise<ActionOutcome>,
) {
  return defineRoute({
    method: 'POST',
    url: `/api/profiles/:id/${verb}`,
    access: 'admin',
    summary,
    tags: ['console'],
    schema: { params: profileParams, body, response: { 200: profileActionResponse } },
    handler: async (request, _reply, context) => {
      const { id } = request.params;
      const outcome = await act(context.db, id, actingAs(request, context), request.body as z.output<B>);
      return { ...outcome, profile: await getProfileDetail(context.db, id) };
    },
  });
}

export const consoleRoutes = {
  overview: defineRoute({
    method: 'GET',
    url: '/api/overview',
    access: 'viewer',
    summary: 'The fleet at a glance: nodes, entities by mode, alerts over time, top rules and workloads, latest reports',
    tags: ['console'],
    schema: { querystring: overviewQuery, response: { 200: overviewResponse } },
    handler: async (request, _reply, context) => buildOverview(context.db, request.query.range, context.now()),
  }),
  listNodes: defineRoute({
    method: 'GET',
    url: '/api/nodes',
    access: 'viewer',
    summary: 'Enrolled nodes with when each was last seen',
    tags: ['console'],
    schema: { response: { 200: nodeListResponse } },
    handler: async (_request, _reply, context) => ({ nodes: await listNodes(context.db, context.now()) }),
  }),
  listEntities: defineRoute({
    method: 'GET',
    url: '/api/entities',
    access: 'viewer',
    summary: 'Containers and hosts the nodes report, with their profile’s mode',
    tags: ['console'],
    schema: { querystring: entityQuery, response: { 200: entityListResponse } },
    handler: async (request, _reply, context) => listEntities(context.db, request.query),
  }),
  getEntity: defineRoute({
    method: 'GET',
    url: '/api/entities/:agentId/:entityId',
    access: 'viewer',
    summary: 'One entity with its profile, alerts and recent event counts',
    tags: ['console'],
    schema: { params: entityParams, response: { 200: entityDetail } },
    handler: async (request, _reply, context) => getEntityDetail(context.db, request.params.agentId, request.params.entityId),
  }),
  listProfiles: defineRoute({
    method: 'GET',
    url: '/api/profiles',
    access: 'viewer',
    summary: 'Merged workload profiles with mode, phase and revision',
    tags: ['console'],
    schema: { querystring: profileQuery, response: { 200: profileListResponse } },
    handler: async (request, _reply, context) => listProfiles(context.db, request.query),
  }),
  getProfile: defineRoute({
    method: 'GET',
    url: '/api/profiles/:id',
    access: 'viewer',
    summary: 'One merged profile: each allowance with when and on which node it was learned, contributions, alerts, history',
    tags: ['console'],
    schema: { params: profileParams, response: { 200: profileDetail } },
    handler: async (request, _reply, context) => getProfileDetail(context.db, request.params.id),
  }),
  approveProfile: profileActionRoute('approve', 'Enforce what was learned so far, now, on every node', emptyRequest, approveProfile),
  relearnProfile: profileActionRoute('relearn', 'Forget what was learned and learn again from now on every node (the mode is kept)', emptyRequest, relearnProfile),
  setProfileMode: profileActionRoute(
    'mode',
    'Set the mode (learn, alert, prevent, stop) on every node; a mode set here wins over the nodes’ default',
    setModeRequest,
    (db, id, context, body) => setProfileMode(db, id, body.mode, context),
  ),
  listAlerts: defineRoute({
    method: 'GET',
    url: '/api/alerts',
    access: 'viewer',
    summary: 'Alerts, newest first, filtered; pass nextCursor as cursor for the next page',
    tags: ['console'],
    schema: { querystring: alertQuery, response: { 200: alertListResponse } },
    handler: async (request, _reply, context) => listAlerts(context.db, request.query),
  }),
};
