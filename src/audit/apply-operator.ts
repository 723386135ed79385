/**
 * Operators: the closed set of tests an assertion may apply to one value. Pure and total: a value of the wrong
 * type does not throw, it simply does not satisfy the operator (a string is not greater than 5 unless it is a
 * number written as text, as Docker writes host ports).
 */
import type { Operator } from './check-definition.ts';

function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function deepEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => deepEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function contains(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) return haystack.some((item) => deepEquals(item, needle));
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack.includes(needle);
  return false;
}

function compare(value: unknown, expected: unknown, test: (a: number, b: number) => boolean): boolean {
  const a = asNumber(value);
  const b = asNumber(expected);
  return a !== undefined && b !== undefined && test(a, b);
}

/** A file mode (a number) with no permission bits outside `mask` (octal text, '644'): 0o600 is at most '644'. */
function modeAtMost(value: unknown, mask: unknown): boolean {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return false;
  if (typeof mask !== 'string' || !/^(0o)?[0-7]{1,4}$/.test(mask)) return false;
  return (value & 0o7777 & ~Number.parseInt(mask.replace(/^0o/, ''), 8)) === 0;
}

function matches(value: unknown, pattern: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  try {
    return new RegExp(String(pattern)).test(String(value));
  } catch {
    return false; // schema validation rejects bad patterns; this guards hand-built checks
  }
}

export function applyOperator(op: Operator, value: unknown, expected: unknown, present: boolean): boolean {
  switch (op) {
    case 'equals':
      return deepEquals(value, expected);
    case 'notEquals':
      return !deepEquals(value, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((item) => deepEquals(item, value));
    case 'notIn':
      return Array.isArray(expected) && !expected.some((item) => deepEquals(item, value));
    case 'exists':
      return present;
    case 'absent':
      return !present;
    case 'truthy':
      return Boolean(value) && !isEmptyValue(value);
    case 'falsy':
      return !value || isEmptyValue(value);
    case 'matches':
      return matches(value, expected);
    case 'notMatches':
      return !matches(value, expected);
    case 'contains':
      return contains(value, expected);
    case 'notContains':
      return !contains(value, expected);
    case 'empty':
      return isEmptyValue(value);
    case 'notEmpty':
      return !isEmptyValue(value);
    case 'greaterThan':
      return compare(value, expected, (a, b) => a > b);
    case 'greaterOrEqual':
      return compare(value, expected, (a, b) => a >= b);
    case 'lessThan':
      return compare(value, expected, (a, b) => a < b);
    case 'lessOrEqual':
      return compare(value, expected, (a, b) => a <= b);
    case 'modeAtMost':
      return modeAtMost(value, expected);
  }
}

/** How a failed operator reads in evidence: `is true; expected equals false`. */
export function describeExpectation(op: Operator, expected: unknown): string {
  if (op === 'exists' || op === 'absent' || op === 'truthy' || op === 'falsy' || op === 'empty' || op === 'notEmpty') return `expected ${op}`;
  return `expected ${op} ${JSON.stringify(expected)}`;
}
