/**
 * Alert pages: newest first by (last seen, id), and a cursor naming the last row of a page, so the next page
 * starts right after it even while new alerts arrive. The cursor is opaque to clients (base64url) but checked
 * strictly here: a forged or truncated one is a clear 400, never a query.
 */
import { NomineError } from '../../core/errors.ts';

export interface AlertCursor {
  lastAt: number;
  id: string;
}

export function encodeAlertCursor(cursor: AlertCursor): string {
  return Buffer.from(`${cursor.lastAt}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeAlertCursor(text: string): AlertCursor {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,16})\.([\x21-\x7e]{1,128})$/.exec(decoded);
  // Base64 decoders skip stray trailing characters; only the exact text this server encoded is a cursor.
  if (!match || Buffer.from(decoded, 'utf8').toString('base64url') !== text) throw new NomineError('invalid-input', 'the cursor is not one this server gave: pass the nextCursor of an earlier answer unchanged', 'querystring.cursor');
  return { lastAt: Number(match[1]), id: match[2]! };
}
