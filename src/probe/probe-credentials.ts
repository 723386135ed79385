/**
 * Probe credentials: the shipped lists of default and weak passwords (data/probes/), validated on load with the
 * file named in errors. Each entry costs one login attempt against the user's endpoint, never more.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';

export const builtinProbesDir = fileURLToPath(new URL('../../data/probes/', import.meta.url));

const credentialSchema = z.object({ username: z.string().min(1), password: z.string(), source: z.string().min(1) });
export type Credential = z.infer<typeof credentialSchema>;

const registryFileSchema = z.object({ schemaVersion: z.literal(1), credentials: z.array(credentialSchema) });
export const consoleProducts = ['portainer', 'rancher', 'harbor', 'shipyard'] as const;
export type ConsoleProduct = (typeof consoleProducts)[number];
const consoleFileSchema = z.object({
  schemaVersion: z.literal(1),
  consoles: z.object(Object.fromEntries(consoleProducts.map((product) => [product, z.array(credentialSchema)])) as Record<ConsoleProduct, z.ZodArray<typeof credentialSchema>>),
});

export interface ProbeCredentials {
  registry: Credential[];
  consoles: Record<ConsoleProduct, Credential[]>;
}

async function loadYaml<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  let document: unknown;
  try {
    document = parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new NomineError('invalid-input', `cannot read credential list: ${(error as Error).message}`, `file ${path}`, { cause: error });
  }
  const result = schema.safeParse(document);
  if (!result.success) throw new NomineError('invalid-input', `invalid credential list: ${z.prettifyError(result.error)}`, `file ${path}`);
  return result.data;
}

/** Dedupes by user and password, so no credential is tried twice even if listed twice. */
function unique(list: Credential[]): Credential[] {
  const seen = new Set<string>();
  return list.filter((entry) => {
    const key = `${entry.username}\0${entry.password}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function loadProbeCredentials(dir = builtinProbesDir): Promise<ProbeCredentials> {
  const [registry, consoles] = await Promise.all([
    loadYaml(join(dir, 'registry-credentials.yaml'), registryFileSchema),
    loadYaml(join(dir, 'web-console-credentials.yaml'), consoleFileSchema),
  ]);
  return {
    registry: unique(registry.credentials),
    consoles: Object.fromEntries(consoleProducts.map((product) => [product, unique(consoles.consoles[product])])) as Record<ConsoleProduct, Credential[]>,
  };
}
