/**
 * Registry authentication: credentials (options, then NOMINE_REGISTRY_USERNAME / NOMINE_REGISTRY_PASSWORD), the
 * `WWW-Authenticate` challenge a 401 carries (RFC 7235), and the bearer token flow of the distribution token spec:
 * GET the realm with `service` and `scope`, with basic credentials when we have them, and use `token` or
 * `access_token` from the answer.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';
import type { RegistryOptions } from '../image-source.ts';
import { readBoundedBody, sendRegistryRequest, statusError } from './registry-http.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Token answers are small; a bigger one is not a token. */
const maxTokenResponseBytes = 1024 * 1024;

export function resolveCredentials(options: RegistryOptions | undefined, env: NodeJS.ProcessEnv = process.env): RegistryCredentials | undefined {
  const username = options?.username ?? env.NOMINE_REGISTRY_USERNAME;
  const password = options?.password ?? env.NOMINE_REGISTRY_PASSWORD;
  if (username === undefined || username === '') return undefined;
  return { username, password: password ?? '' };
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/**
 * Parses `Bearer realm="…",service="…",scope="a b"` (and several challenges in one header). Quoted values may
 * hold commas and escaped quotes; scheme names are compared case-insensitively.
 */
export function parseAuthChallenges(header: string | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  const token = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  const param = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let position = 0;
  while (position < header.length) {
    token.lastIndex = position;
    const scheme = token.exec(header);
    if (!scheme?.[1]) break;
    position = token.lastIndex;
    const challenge: AuthChallenge = { scheme: scheme[1].toLowerCase(), params: {} };
    for (;;) {
      param.lastIndex = position;
      const match = param.exec(header);
      // A bare token followed by something other than `=` starts the next challenge.
      if (!match?.[1]) break;
      challenge.params[match[1].toLowerCase()] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
      position = param.lastIndex;
    }
    challenges.push(challenge);
    while (header[position] === ',' || header[position] === ' ') position++;
  }
  return challenges;
}

const tokenResponseSchema = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().optional(),
});

export interface BearerRequest {
  challenge: AuthChallenge;
  /** Used when the challenge names no scope (the /v2/ ping), e.g. `repository:app:pull`. */
  fallbackScope?: string;
  credentials: RegistryCredentials | undefined;
  registry: string;
  part: string;
}

/** Fetches a bearer token from the challenge's realm; rejects with unauthorized / unreachable / invalid-input. */
export async function fetchBearerToken(dispatcher: Dispatcher, req: BearerRequest, signal?: AbortSignal): Promise<string> {
  const realm = req.challenge.params.realm;
  if (!realm) throw new NomineError('invalid-input', 'the registry asked for a bearer token without naming a realm', req.part);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new NomineError('invalid-input', `the bearer realm "${realm}" is not a URL`, req.part);
  }
  if (req.challenge.params.service) url.searchParams.set('service', req.challenge.params.service);
  const scope = req.challenge.params.scope ?? req.fallbackScope;
  // A challenge may list several scopes separated by spaces; the spec sends each as its own parameter.
  for (const one of scope?.split(' ').filter(Boolean) ?? []) url.searchParams.append('scope', one);
  if (req.credentials) url.searchParams.set('account', req.credentials.username);

  const part = `token service ${url.origin}`;
  const response = await sendRegistryRequest(
    dispatcher,
    { url, part, headers: { accept: 'application/json' }, ...(req.credentials ? { authorization: basicAuthorization(req.credentials) } : {}) },
    signal,
  );
  if (response.status !== 200) {
    throw await statusError(response, { part, subject: `a token for ${scope ?? 'the registry'}`, hadCredentials: req.credentials !== undefined, registry: req.registry });
  }
  const body = await readBoundedBody(response, maxTokenResponseBytes, part, signal);
  let parsed: z.infer<typeof tokenResponseSchema>;
  try {
    parsed = tokenResponseSchema.parse(JSON.parse(body.toString('utf8')));
  } catch (error) {
    throw new NomineError('invalid-input', 'the token service answered with something other than a token', part, { cause: error });
  }
  const bearer = parsed.token ?? parsed.access_token;
  if (!bearer) throw new NomineError('invalid-input', 'the token service answer has neither "token" nor "access_token"', part);
  return bearer;
}
