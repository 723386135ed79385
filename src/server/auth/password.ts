/**
 * Passwords: argon2id (memory-hard, OWASP's first choice) with its PHC string stored, and the policy a new
 * password must meet. Unknown usernames are verified against a decoy hash so timing does not reveal which exist.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { passwordMaxLength, passwordMinLength } from '../server-limits.ts';

// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
// Algorithm is an ambient const enum, which verbatimModuleSyntax cannot read: 2 is its Argon2id.
const argon2id = 2 as Algorithm;
const options = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

let decoy: Promise<string> | undefined;

/** False for a wrong password, and for no user at all (`stored` undefined), after the same work. */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (password.length > passwordMaxLength) return false;
  if (stored === undefined) {
    decoy ??= hashPassword('nomine-decoy-password');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

/** Why the password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, username?: string): string | undefined {
  if ([...password].length < passwordMinLength) return `the password must be at least ${passwordMinLength} characters long`;
  if (password.length > passwordMaxLength) return `the password must be at most ${passwordMaxLength} characters long`;
  if (username !== undefined && password.toLowerCase().includes(username.toLowerCase())) return 'the password must not contain the username';
  return undefined;
}
