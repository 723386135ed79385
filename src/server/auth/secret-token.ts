/**
 * Bearer secrets (session cookies, API tokens, setup links): 256 random bits, stored only as a SHA-256 digest.
 * A fast hash is enough here because the input is random, not a password someone chose.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const apiTokenPrefix = 'nmn_';
/** An enrolled agent's own credential: recognisable in a log or a leaked file, and never confused with an API token. */
export const agentCredentialPrefix = 'nmna_';
/** A join token an admin hands to nodes so they can enrol. */
export const joinTokenPrefix = 'nmnj_';

export function newSecret(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function digestSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function isSameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
