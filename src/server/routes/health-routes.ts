/** Liveness, readiness, metrics and the OpenAPI document. */
import { sql } from 'kysely';
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';
import { healthResponse, readyResponse } from '../schemas/health-schemas.ts';
import { defineRoute } from '../server-route.ts';

export const healthRoutes = {
  healthz: defineRoute({
    method: 'GET',
    url: '/healthz',
    access: 'public',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    schema: { response: { 200: healthResponse } },
    handler: async () => ({ status: 'ok' as const }),
  }),
  readyz: defineRoute({
    method: 'GET',
    url: '/readyz',
    access: 'public',
    summary: 'Readiness: the store answers a query',
    tags: ['operations'],
    schema: { response: { 200: readyResponse } },
    handler: async (_request, _reply, context) => {
      try {
        await sql`select 1`.execute(context.db);
      } catch (error) {
        throw new NomineError('unreachable', `the store does not answer: ${(error as Error).message}`, 'store', { cause: error });
      }
      return { status: 'ready' as const };
    },
  }),
  metrics: defineRoute({
    method: 'GET',
    url: '/metrics',
    access: 'metrics',
    summary: 'Prometheus metrics (any valid API token, or an admin session)',
    tags: ['operations'],
    schema: {},
    handler: async (_request, reply, context) => {
      reply.type(context.metrics.registry.contentType);
      return context.metrics.registry.metrics();
    },
  }),
  openapi: defineRoute({
    method: 'GET',
    url: '/openapi.json',
    access: 'public',
    summary: 'This API, as an OpenAPI 3 document generated from the schemas that validate requests',
    tags: ['operations'],
    schema: { response: { 200: z.record(z.string(), z.unknown()) } },
    handler: async (_request, _reply, context) => context.openapi(),
  }),
};
