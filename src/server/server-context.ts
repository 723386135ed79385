/** What handlers share: the store, the clock, the limits, cookie settings, login throttles and metrics. */
import type { AttemptCounter } from './auth/login-throttle.ts';
import type { ServerLimits } from './server-limits.ts';
import type { ServerMetrics } from './server-metrics.ts';
import type { ServerStore } from './server-store.ts';

export interface ServerContext {
  db: ServerStore;
  now(): number;
  limits: ServerLimits;
  /** True when served over TLS: cookies then carry `Secure` and the `__Host-` prefix. */
  secureCookies: boolean;
  sessionCookie: string;
  /** `enrolPerIp` counts failed agent enrolments (a guessed join token), as `perUser` counts failed logins. */
  loginThrottle: { perIp: AttemptCounter; perUser: AttemptCounter; enrolPerIp: AttemptCounter };
  metrics: ServerMetrics;
  openapi(): unknown;
}

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-nomine_session' : 'nomine_session';
}
