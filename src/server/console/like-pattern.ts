/**
 * Substring search in SQL that means what the user typed: `%`, `_` and the escape character itself are matched
 * literally, and matching ignores case on SQLite and PostgreSQL alike (`lower(column) like lower(pattern)`).
 */
import { sql, type RawBuilder } from 'kysely';

export const likeEscape = '!';

/** `50%_off` → `%50!%!_off%`, lower-cased. */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (character) => `${likeEscape}${character}`)}%`;
}

/** True when any of `columns` contains `text`, ignoring case. */
export function anyColumnContains(columns: readonly string[], text: string): RawBuilder<boolean> {
  const pattern = containsPattern(text);
  const tests = columns.map((column) => sql<boolean>`lower(coalesce(${sql.ref(column)}, '')) like ${pattern} escape '!'`);
  return sql<boolean>`(${sql.join(tests, sql` or `)})`;
}
