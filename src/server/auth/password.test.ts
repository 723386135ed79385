import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';

describe('passwords', () => {
  it('stores an argon2id hash that verifies the password and nothing else', async () => {
    const stored = await hashPassword('a long enough secret');
    assert.match(stored, /^\$argon2id\$/);
    assert.ok(!stored.includes('a long enough secret'));
    assert.equal(await verifyPassword(stored, 'a long enough secret'), true);
    assert.equal(await verifyPassword(stored, 'a long enough secreT'), false);
  });

  it('refuses unknown users and garbage hashes without throwing', async () => {
    assert.equal(await verifyPassword(undefined, 'whatever it is'), false);
    assert.equal(await verifyPassword('not-a-phc-string', 'whatever it is'), false);
    assert.equal(await verifyPassword(await hashPassword('x'.repeat(12)), 'x'.repeat(5000)), false);
  });

  it('states the policy when a password is refused', () => {
    assert.match(passwordProblem('short') ?? '', /at least 12 characters/);
    assert.match(passwordProblem('x'.repeat(2000)) ?? '', /at most 1024/);
    assert.match(passwordProblem('alice-is-my-password', 'alice') ?? '', /must not contain the username/);
    assert.equal(passwordProblem('twelve chars!'), undefined);
  });
});
