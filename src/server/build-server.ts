/**
 * buildServer: a configured fastify instance (not yet listening), so tests drive it with `inject` and the CLI
 * calls `listen`. Registers every route of `serverRoutes` with its access level, the zod validator and
 * serializer, OpenAPI generation from the same schemas, helmet headers, cookies, metrics and one error boundary.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { NomineError, isNomineError } from '../core/errors.ts';
import { AdmissionSlots, agentSlotsFor } from './agent-admission.ts';
import { authorize, csrfHeader, identify } from './auth/authorize-request.ts';
import { AttemptCounter } from './auth/login-throttle.ts';
import type { Access, Principal } from './auth/principal.ts';
import { RateLimitedError, errorBody, statusOfCode } from './http-status.ts';
import { serverRoutes } from './routes/index.ts';
import { registerWebUi, type WebUiFallback } from './web-ui.ts';
import { sessionCookieName, type ServerContext } from './server-context.ts';
import { defaultServerLimits, type ServerLimits } from './server-limits.ts';
import { parseJsonBody } from './json-body.ts';
import { createServerMetrics } from './server-metrics.ts';
import type { ServerRoute } from './server-route.ts';
import type { ServerStore } from './server-store.ts';

export interface ServerOptions {
  db: ServerStore;
  limits?: Partial<ServerLimits>;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now?: () => number;
  /** Serve HTTPS with this PEM certificate and key; cookies then carry `Secure`. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** false: silent (tests); or a pino level for the CLI. */
  logger?: false | { level: string };
  version?: string;
  /** Serve the web UI from this directory (a web/dist build); without it the server is the API alone. */
  webRoot?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const limits: ServerLimits = { ...defaultServerLimits, ...options.limits };
  const secureCookies = options.tls !== undefined;
  const app = (options.tls
    ? Fastify({ https: { cert: options.tls.cert, key: options.tls.key }, logger: options.logger ?? false, bodyLimit: limits.bodyLimitBytes })
    : Fastify({ logger: options.logger ?? false, bodyLimit: limits.bodyLimitBytes })) as unknown as FastifyInstance;
  const context: ServerContext = {
    db: options.db,
    now: options.now ?? Date.now,
    limits,
    secureCookies,
    sessionCookie: sessionCookieName(secureCookies),
    loginThrottle: {
      perIp: new AttemptCounter(options.db, 'ip', { limit: limits.loginAttemptsPerIp, windowMs: limits.loginWindowMs }, limits.maxThrottleKeys),
      perUser: new AttemptCounter(options.db, 'user', { limit: limits.loginFailuresPerUser, windowMs: limits.loginWindowMs }, limits.maxThrottleKeys),
      enrolPerIp: new AttemptCounter(options.db, 'enrol-ip', { limit: limits.loginAttemptsPerIp, windowMs: limits.loginWindowMs }, limits.maxThrottleKeys),
    },
    metrics: createServerMetrics(),
    openapi: () => app.swagger(),
  };

  // JSON only: fastify's text/plain parser would hand strings to the validators.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toHttpFailure(error, request);
    if (failure.code === 'internal') request.log.error({ err: error }, 'internal error');
    if (failure instanceof RateLimitedError) reply.header('retry-after', String(failure.retryAfterSeconds));
    if (failure.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="nomine"');
    return reply.code(failure instanceof RateLimitedError ? 429 : statusOfCode[failure.code]).send(errorBody(failure));
  });
  let webUi: WebUiFallback | undefined;
  app.setNotFoundHandler((request, reply) => {
    if (webUi?.(request, reply)) return;
    reply.code(404).send(errorBody(new NomineError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`)));
  });

  // Helmet's default CSP fits the built app (scripts and styles from 'self'; charts set inline styles, which
  // style-src allows). Over plain HTTP (loopback), upgrade-insecure-requests would send asset requests to https.
  await app.register(fastifyHelmet, secureCookies ? {} : { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'nomine server', version: options.version ?? '0.0.0', description: 'The nomine console API. Errors are `{ error: { code, message } }`.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token, `nmn_…`' },
          session: { type: 'apiKey', in: 'cookie', name: context.sessionCookie },
          csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'Required with the session cookie on POST and DELETE' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    request.principal = await identify(
      {
        method: request.method,
        authorization: request.headers.authorization,
        sessionCookie: request.cookies[context.sessionCookie],
        csrfToken: headerValue(request.headers[csrfHeader]),
      },
      context,
    );
    authorize(access, request.principal);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    context.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    context.metrics.requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const agentSlots = new AdmissionSlots(agentSlotsFor(options.db));
  for (const route of Object.values(serverRoutes) as ServerRoute[]) registerRoute(app, route, context, agentSlots);
  if (options.webRoot !== undefined) webUi = await registerWebUi(app, options.webRoot);
  return app;
}

function registerRoute(app: FastifyInstance, route: ServerRoute, context: ServerContext, agentSlots: AdmissionSlots): void {
  const security: Record<string, string[]>[] = route.access === 'public' ? [] : [{ bearer: [] }, { session: [], csrf: [] }];
  app.route({
    method: route.method,
    url: route.url,
    config: { access: route.access },
    ...(route.bodyLimit ? { bodyLimit: route.bodyLimit(context.limits) } : {}),
    schema: { ...route.schema, summary: route.summary, tags: route.tags, security, description: `Access: ${route.access}.` },
    handler: (request, reply) => {
      const run = () =>
        route.handler(
          { body: request.body, query: request.query, params: request.params, headers: request.headers, principal: request.principal, ip: request.ip } as never,
          reply,
          context,
        );
      // Agents take turns, so people's pages never queue behind every agent's transaction (agent-admission.ts).
      return route.access === 'agent' ? agentSlots.run(run) : run();
    },
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Every failure as a NomineError, once: validation names the field, parser errors say what was wrong. */
function toHttpFailure(error: FastifyError, request: FastifyRequest): NomineError {
  if (isNomineError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request';
    const problems = error.validation.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return `${where}${path ? `.${path}` : ''}: ${issue.message}`;
    });
    return new NomineError('invalid-input', problems.join('; '), `${request.method} ${request.routeOptions.url ?? request.url}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new NomineError('limit-exceeded', `the request body is larger than the ${request.routeOptions.bodyLimit ?? 'configured'} bytes this route accepts`, 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new NomineError('unsupported', `unsupported content type ${request.headers['content-type'] ?? '(none)'}: send application/json`, 'content-type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new NomineError('invalid-input', 'Content-Length does not match the body', 'body');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (Object.entries(statusOfCode).find(([, value]) => value === status)?.[0] ?? 'invalid-input') as NomineError['code'];
    return new NomineError(code, error.message, 'request');
  }
  return new NomineError('internal', 'internal error: the server log has the details', 'server');
}
