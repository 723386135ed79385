/**
 * Loading checks: every `*.yaml` below the built-in data/checks (found relative to this module, so it works from
 * src/ under tsx and from dist/) and the user's directories, later directories shadowing earlier ones by check id.
 * Any invalid file aborts the load with a NomineError naming the file: an unknown operator, a missing field, a
 * field path that does not parse, a predicate that does not exist. A half-loaded benchmark would be a lie.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';
import { checkDefinitionSchema, operators, type CheckDefinition } from './check-definition.ts';
import { parseFieldPath } from './field-path.ts';
import { isPredicateName } from './predicates.ts';

export const builtinChecksDir = fileURLToPath(new URL('../../data/checks/', import.meta.url));

/** A check is a page of YAML; anything larger is a mistake, not a check. */
const maxCheckFileBytes = 256 * 1024;

export async function listYamlFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) found.push(path);
    }
  };
  await walk(root);
  return found;
}

/** Problems the schema would report poorly (a union's "invalid input"), found by walking the raw assertion. */
function assertionProblems(node: unknown, where: string): string[] {
  if (typeof node !== 'object' || node === null) return [`${where}: an assertion must be a mapping`];
  const record = node as Record<string, unknown>;
  const problems: string[] = [];
  if ('op' in record && !(operators as readonly unknown[]).includes(record.op)) problems.push(`${where}: unknown operator ${JSON.stringify(record.op)} (known: ${operators.join(', ')})`);
  if ('predicate' in record && (typeof record.predicate !== 'string' || !isPredicateName(record.predicate))) problems.push(`${where}: unknown predicate ${JSON.stringify(record.predicate)}`);
  for (const key of ['field', 'every', 'some'] as const) {
    if (typeof record[key] === 'string') {
      try {
        parseFieldPath((record[key] as string).replace(/^\$\./, ''));
      } catch (error) {
        problems.push(`${where}.${key}: ${(error as Error).message}`);
      }
    }
  }
  if ('field' in record && !('op' in record)) problems.push(`${where}: a field assertion needs an op`);
  for (const key of ['all', 'any'] as const) if (Array.isArray(record[key])) (record[key] as unknown[]).forEach((inner, i) => problems.push(...assertionProblems(inner, `${where}.${key}[${i}]`)));
  for (const key of ['not', 'assert'] as const) if (record[key] !== undefined) problems.push(...assertionProblems(record[key], `${where}.${key}`));
  return problems;
}

/** Parses and validates one check file's text; `file` is only for messages. */
export function parseCheck(text: string, file: string): CheckDefinition {
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new NomineError('invalid-input', `check file is not valid YAML: ${(error as Error).message}`, file, { cause: error });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new NomineError('invalid-input', 'a check file must hold one mapping', file);
  const raw = data as Record<string, unknown>;
  const problems = [...(raw.assert === undefined ? [] : assertionProblems(raw.assert, 'assert')), ...(raw.applies === undefined ? [] : assertionProblems(raw.applies, 'applies'))];
  if (problems.length > 0) throw new NomineError('invalid-input', `invalid check: ${problems.join('; ')}`, file);
  const parsed = checkDefinitionSchema.safeParse(data);
  if (!parsed.success) throw new NomineError('invalid-input', `invalid check: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, file);
  return { ...(parsed.data as CheckDefinition), source: file };
}

export async function loadChecks(extraDirs: readonly string[] = [], builtinDir = builtinChecksDir): Promise<CheckDefinition[]> {
  const byId = new Map<string, CheckDefinition>();
  for (const dir of [builtinDir, ...extraDirs]) {
    const info = await stat(dir).catch((error: unknown) => {
      throw new NomineError('not-found', `check directory cannot be read: ${(error as Error).message}`, dir, { cause: error });
    });
    if (!info.isDirectory()) throw new NomineError('invalid-input', 'not a directory', dir);
    const seenHere = new Map<string, string>();
    for (const file of await listYamlFiles(dir)) {
      const size = (await stat(file)).size;
      if (size > maxCheckFileBytes) throw new NomineError('limit-exceeded', `check file is larger than ${maxCheckFileBytes} bytes`, file);
      const check = parseCheck(await readFile(file, 'utf8'), file);
      const twin = seenHere.get(check.id);
      if (twin) throw new NomineError('conflict', `check id ${check.id} is also defined in ${twin}`, file);
      seenHere.set(check.id, file);
      byId.set(check.id, check); // a user directory shadows a built-in check of the same id
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
