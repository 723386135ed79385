/**
 * The JSON body parser: fastify's default drops the parser's message, so a client would only hear "not valid JSON".
 * This one says where the JSON breaks, and refuses `__proto__` and `constructor.prototype` keys (prototype poisoning).
 */
import { NomineError } from '../core/errors.ts';

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new NomineError('invalid-input', 'the body is empty but Content-Type says JSON: send a JSON object, or no Content-Type', 'body');
  try {
    // A reviver makes JSON.parse several times slower, and agent batches are large. A key can only spell
    // __proto__ or constructor with those letters or with \u escapes, so a body with neither cannot poison.
    if (!text.includes('\\u') && !text.includes('proto') && !text.includes('constructor')) return JSON.parse(text) as unknown;
    return JSON.parse(text, function refusePoison(this: unknown, key: string, value: unknown) {
      if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype'))) {
        throw new NomineError('invalid-input', `the key "${key}" is not accepted in JSON bodies`, 'body');
      }
      return value;
    });
  } catch (error) {
    if (error instanceof NomineError) throw error;
    throw new NomineError('invalid-input', `malformed JSON body: ${(error as Error).message}`, 'body');
  }
}
