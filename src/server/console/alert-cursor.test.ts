import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAlertCursor, encodeAlertCursor } from './alert-cursor.ts';

describe('alert cursors', () => {
  it('round-trips the last row of a page', () => {
    const cursor = { lastAt: 1_767_225_600_000, id: '4b8f2c3e-1111-4222-8333-444455556666' };
    assert.deepEqual(decodeAlertCursor(encodeAlertCursor(cursor)), cursor);
  });

  for (const [name, text] of [
    ['garbage', 'not a cursor!'],
    ['base64 of something else', Buffer.from('hello').toString('base64url')],
    ['a time that is not a number', Buffer.from('12x.abc').toString('base64url')],
    ['an id with spaces', Buffer.from('12.a b').toString('base64url')],
    ['an empty id', Buffer.from('12.').toString('base64url')],
    ['an oversized time', Buffer.from(`${'9'.repeat(17)}.a`).toString('base64url')],
    ['an oversized cursor', 'A'.repeat(201)],
  ] as const) {
    it(`refuses ${name} with a message saying where to get one`, () => {
      assert.throws(() => decodeAlertCursor(text), (error: Error & { code?: string }) => error.code === 'invalid-input' && /nextCursor/.test(error.message));
    });
  }
});
