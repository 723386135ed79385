/**
 * Reading fields of JSON written by other programs (Falco alerts, Tetragon events) without trusting it: only own
 * keys are read (a `__proto__` or `constructor` key never answers from a prototype), every value is checked for its
 * type and range, and a value quoted back in a message is cut short. A bad field throws FieldError, which the
 * mappers turn into an `{ error }` result for that one line.
 */

/** A pid, ppid or uid the source did not carry (a Falco rule output names only some fields). */
export const unknownId = -1;
/** PID_MAX_LIMIT on 64-bit Linux: no pid is larger. */
export const maxPid = 4_194_304;
export const maxUint32 = 0xffff_ffff;
/** A container id or its prefix as sensors print it: 12 hex digits (Falco, `docker ps`) up to the full 64. */
export const containerIdPattern = /^[0-9a-f]{12,64}$/;

export type JsonObject = Record<string, unknown>;

export class FieldError extends Error {
  override readonly name = 'FieldError';
}

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function own(record: JsonObject, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A string field; null (Falco's `<NA>`) and absence are both undefined. */
export function stringField(record: JsonObject, key: string, name = key): string | undefined {
  const value = own(record, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FieldError(`${name} is ${describeType(value)}, not a string`);
  return value;
}

export function integerField(record: JsonObject, key: string, min: number, max: number, name = key): number | undefined {
  const value = own(record, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FieldError(`${name} is ${describeType(value)}, not an integer`);
  if (value < min || value > max) throw new FieldError(`${name} ${value} is outside ${min}..${max}`);
  return value;
}

/** The `time` of an event in milliseconds; an event without one gets the time it arrived. */
export function eventTime(record: JsonObject, now: number): number {
  const time = own(record, 'time');
  if (time === undefined || time === null) return now;
  if (typeof time !== 'string') throw new FieldError(`time is ${describeType(time)}, not an RFC 3339 string`);
  const at = parseRfc3339(time);
  if (at === undefined) throw new FieldError(`time ${printable(time)} is not an RFC 3339 timestamp`);
  return at;
}

const rfc3339Pattern = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch of an RFC 3339 timestamp with up to nanosecond digits (Falco and Tetragon write nine). */
export function parseRfc3339(text: string): number | undefined {
  const match = rfc3339Pattern.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [fraction, sign, offsetHours, offsetMinutes] = match.slice(7);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (Number(offsetHours ?? 0) > 23 || Number(offsetMinutes ?? 0) > 59) return undefined;
  const millis = fraction ? Math.floor(Number(fraction.padEnd(9, '0')) / 1e6) : 0;
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 : 0;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${printable(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Outside text quoted and cut short, so a hostile value cannot flood a status line. */
export function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
