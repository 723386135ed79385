/**
 * Who is asking: a user through a session cookie, an API token, or an enrolled agent with its own credential.
 * Roles say what users and tokens may do; agents have no role and reach only the `agent` routes. The route table
 * names one access level per route, and `isGranted` is the only place the two meet.
 */
export const userRoles = ['admin', 'viewer'] as const;
export type UserRole = (typeof userRoles)[number];

/** Tokens add `ingest`: may send scan, audit and probe reports (and scrape metrics), nothing else. */
export const tokenRoles = ['admin', 'viewer', 'ingest'] as const;
export type TokenRole = (typeof tokenRoles)[number];

export type Principal =
  | { kind: 'user'; userId: string; username: string; role: UserRole; csrfToken: string; sessionHash: string }
  | { kind: 'token'; tokenId: string; name: string; role: TokenRole }
  | { kind: 'agent'; agentId: string; nodeName: string };

/** `agent`: an enrolled agent's own credential, and nothing else (no user or token may post a node's batches). */
export const accessLevels = ['public', 'authenticated', 'viewer', 'admin', 'ingest', 'metrics', 'agent'] as const;
export type Access = (typeof accessLevels)[number];

/** The role of a user or token; agents have none, so every role-based level refuses them. */
function roleOf(principal: Principal): UserRole | TokenRole | undefined {
  return principal.kind === 'agent' ? undefined : principal.role;
}

const grants: Record<Access, (principal: Principal) => boolean> = {
  public: () => true,
  authenticated: (principal) => principal.kind !== 'agent',
  viewer: (principal) => roleOf(principal) === 'admin' || roleOf(principal) === 'viewer',
  admin: (principal) => roleOf(principal) === 'admin',
  ingest: (principal) => roleOf(principal) === 'admin' || roleOf(principal) === 'ingest',
  // Scrapers hold a token; people look at metrics as admins.
  metrics: (principal) => principal.kind === 'token' || roleOf(principal) === 'admin',
  agent: (principal) => principal.kind === 'agent',
};

export function isGranted(access: Access, principal: Principal): boolean {
  return grants[access](principal);
}

/** `user:<id>`, `token:<id>` or `agent:<id>`: who submitted a report or acted, and the scope of their idempotency keys. */
export function principalKey(principal: Principal): string {
  if (principal.kind === 'agent') return `agent:${principal.agentId}`;
  return principal.kind === 'user' ? `user:${principal.userId}` : `token:${principal.tokenId}`;
}

/** How an error message names the principal: `user alice`, `token "ci"`, `agent node-1`. */
export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'agent') return `agent ${principal.nodeName}`;
  return principal.kind === 'user' ? `user ${principal.username}` : `token "${principal.name}"`;
}
