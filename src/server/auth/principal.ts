/**
 * Who is asking: a user through a session cookie, or an API token. Roles say what each may do; the route
 * table names one access level per route, and `isGranted` is the only place the two meet.
 */
export const userRoles = ['admin', 'viewer'] as const;
export type UserRole = (typeof userRoles)[number];

/** Tokens add `ingest`: may send scan, audit and probe reports (and scrape metrics), nothing else. */
export const tokenRoles = ['admin', 'viewer', 'ingest'] as const;
export type TokenRole = (typeof tokenRoles)[number];

export type Principal =
  | { kind: 'user'; userId: string; username: string; role: UserRole; csrfToken: string; sessionHash: string }
  | { kind: 'token'; tokenId: string; name: string; role: TokenRole };

export const accessLevels = ['public', 'authenticated', 'viewer', 'admin', 'ingest', 'metrics'] as const;
export type Access = (typeof accessLevels)[number];

const grants: Record<Access, (principal: Principal) => boolean> = {
  public: () => true,
  authenticated: () => true,
  viewer: (principal) => principal.role === 'admin' || principal.role === 'viewer',
  admin: (principal) => principal.role === 'admin',
  ingest: (principal) => principal.role === 'admin' || principal.role === 'ingest',
  // Scrapers hold a token; people look at metrics as admins.
  metrics: (principal) => principal.kind === 'token' || principal.role === 'admin',
};

export function isGranted(access: Access, principal: Principal): boolean {
  return grants[access](principal);
}

/** `user:<id>` or `token:<id>`: who submitted a report, and the scope of their idempotency keys. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `token:${principal.tokenId}`;
}
