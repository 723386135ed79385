/**
 * Times as the console shows them: stored as epoch milliseconds (a bigint column, which PostgreSQL hands back as a
 * string), answered as ISO 8601.
 */
export function isoOf(value: number | string | bigint): string {
  return new Date(Number(value)).toISOString();
}

export function isoOrNull(value: number | string | bigint | null | undefined): string | null {
  return value === null || value === undefined ? null : isoOf(value);
}
