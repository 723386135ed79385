/**
 * The data directory: one place for all of nomine's state (layer cache, store, outbox, profiles), so isolated
 * instances can run side by side. $NOMINE_HOME, else /var/lib/nomine as root and ~/.nomine otherwise.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function resolveDataHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NOMINE_HOME) return env.NOMINE_HOME;
  return process.getuid?.() === 0 ? '/var/lib/nomine' : join(homedir(), '.nomine');
}

export function ensureDataHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}
