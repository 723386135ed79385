/**
 * A route as data: method, URL, access level, zod schemas (which validate the request and generate OpenAPI) and a
 * handler. Route files export literal maps of these; `buildServer` registers the union, so the access table,
 * the OpenAPI document and the tests iterate one list.
 */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { principalKey, type Access, type Principal } from './auth/principal.ts';
import type { ServerContext } from './server-context.ts';
import type { ServerLimits } from './server-limits.ts';

export interface RouteSchema {
  body?: z.ZodType;
  querystring?: z.ZodType;
  params?: z.ZodType;
  headers?: z.ZodType;
  response?: Record<number, z.ZodType>;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteRequest<S extends RouteSchema> {
  body: Parsed<S['body']>;
  query: Parsed<S['querystring']>;
  params: Parsed<S['params']>;
  headers: Parsed<S['headers']>;
  /** Set on every route but `public` ones. */
  principal: Principal | undefined;
  ip: string;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface ServerRoute<S extends RouteSchema = RouteSchema> {
  method: HttpMethod;
  url: string;
  access: Access;
  summary: string;
  tags: string[];
  /** Overrides the server's body limit for this route. */
  bodyLimit?: (limits: ServerLimits) => number;
  schema: S;
  // Method syntax: handlers of specific schemas stay assignable to the general route type.
  handler(request: RouteRequest<S>, reply: FastifyReply, context: ServerContext): Promise<unknown>;
}

export function defineRoute<S extends RouteSchema>(route: ServerRoute<S>): ServerRoute<S> {
  return route;
}

/** The principal of a route that is not `public`: the access hook has already refused requests without one. */
export function principalOf(request: { principal: Principal | undefined }): Principal {
  if (!request.principal) throw new Error('route without a principal: its access level must not be public');
  return request.principal;
}

/** Who acts and when, as the audited actions (profile and user changes) take them: `user:<id>` or `token:<id>`. */
export function actingAs(request: { principal: Principal | undefined }, context: ServerContext): { actor: string; now: number } {
  return { actor: principalKey(principalOf(request)), now: context.now() };
}
