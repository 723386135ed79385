/**
 * The server's bounds, named in one place: request sizes, session lifetimes, login throttling.
 * `buildServer` takes overrides so tests can run on short windows.
 */
const minute = 60_000;
const hour = 60 * minute;

export interface ServerLimits {
  /** Bytes of one request body (other than reports); larger bodies get 413 before any parsing. */
  bodyLimitBytes: number;
  /** Bytes of one ingested report (the JSON envelope as received). */
  maxReportBytes: number;
  /** Bytes of one agent batch (entities, event summaries, profiles, alerts). */
  maxAgentBatchBytes: number;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /** A session ends this long after login, active or not. */
  sessionAbsoluteMs: number;
  /** A one-time setup link is valid this long. */
  setupLinkTtlMs: number;
  /** Login attempts one client address may make per window. */
  loginAttemptsPerIp: number;
  /** Failed logins one username may take per window before it is locked for the rest of it. */
  loginFailuresPerUser: number;
  loginWindowMs: number;
  /** Distinct addresses and usernames the login throttle tracks; the oldest are forgotten first. */
  maxThrottleKeys: number;
}

export const defaultServerLimits: ServerLimits = {
  bodyLimitBytes: 1024 * 1024,
  maxReportBytes: 16 * 1024 * 1024,
  maxAgentBatchBytes: 8 * 1024 * 1024,
  sessionIdleMs: 30 * minute,
  sessionAbsoluteMs: 12 * hour,
  setupLinkTtlMs: 30 * minute,
  loginAttemptsPerIp: 5,
  loginFailuresPerUser: 5,
  loginWindowMs: minute,
  maxThrottleKeys: 100_000,
};

/** Passwords: long enough to resist guessing, bounded so hashing stays cheap to refuse. */
export const passwordMinLength = 12;
export const passwordMaxLength = 1024;
