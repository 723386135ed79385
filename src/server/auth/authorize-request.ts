/**
 * Who is asking and may they: a Bearer API token, else the session cookie. Cookie-authenticated requests that
 * change state must carry the session's CSRF synchroniser token in X-CSRF-Token (tokens need none: a browser
 * never attaches them by itself). Runs before the body is parsed, so strangers never reach validation.
 */
import { NomineError } from '../../core/errors.ts';
import type { ServerContext } from '../server-context.ts';
import { authenticateAgent } from './agent-credentials.ts';
import { authenticateApiToken } from './api-tokens.ts';
import { describePrincipal, isGranted, type Access, type Principal } from './principal.ts';
import { agentCredentialPrefix, isSameSecret } from './secret-token.ts';
import { resumeSession } from './sessions.ts';

export const csrfHeader = 'x-csrf-token';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface IncomingCredentials {
  method: string;
  authorization: string | undefined;
  sessionCookie: string | undefined;
  csrfToken: string | undefined;
}

export async function identify(credentials: IncomingCredentials, context: ServerContext): Promise<Principal | undefined> {
  if (credentials.authorization !== undefined) {
    const match = /^Bearer +(\S+)$/i.exec(credentials.authorization.trim());
    if (!match?.[1]) throw new NomineError('unauthorized', 'use the header `Authorization: Bearer nmn_…`', 'authorization');
    // Agents' credentials have their own prefix and table: an API token can never pass as an agent, nor the reverse.
    if (match[1].startsWith(agentCredentialPrefix)) return authenticateAgent(context.db, match[1], context.now());
    return authenticateApiToken(context.db, match[1], context.now());
  }
  if (credentials.sessionCookie === undefined) return undefined;
  const principal = await resumeSession(context.db, credentials.sessionCookie, context.now(), context.limits);
  if (!safeMethods.has(credentials.method)) {
    if (!credentials.csrfToken) throw new NomineError('forbidden', 'the X-CSRF-Token header is missing: send the csrfToken from POST /api/login or GET /api/me', 'csrf');
    if (!isSameSecret(credentials.csrfToken, principal.csrfToken)) throw new NomineError('forbidden', 'the X-CSRF-Token header does not match this session', 'csrf');
  }
  return principal;
}

export function authorize(access: Access, principal: Principal | undefined): void {
  if (access === 'public') return;
  if (!principal) throw new NomineError('unauthorized', 'authentication required: log in, or send `Authorization: Bearer nmn_…`', 'authorization');
  if (!isGranted(access, principal)) {
    if (access === 'agent') throw new NomineError('forbidden', `only an enrolled agent's own credential (nmna_…) may do this; ${describePrincipal(principal)} is not an agent`, 'authorization');
    if (principal.kind === 'agent') throw new NomineError('forbidden', `this needs the ${access} access level; an agent's credential only delivers batches and syncs profiles`, 'authorization');
    throw new NomineError('forbidden', `this needs the ${access} access level; ${describePrincipal(principal)} has the role ${principal.role}`, 'authorization');
  }
}
