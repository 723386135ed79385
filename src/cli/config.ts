/**
 * Configuration: defaults, then the config file (YAML: --config, $NOMINE_CONFIG, or $NOMINE_HOME/config.yaml),
 * then environment variables, then flags. Validated with zod; an error names the file and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';
import { severities } from '../core/severity.ts';
import { lazyRequire } from '../platform/lazy-require.ts';
import { defaultLimits, type Limits } from '../platform/limits.ts';
import { scanReporters } from '../report/scan-reporters.ts';

// Loaded only when there is a config file to read.
const yaml = lazyRequire<typeof import('yaml')>('yaml');

const formats = Object.keys(scanReporters) as [keyof typeof scanReporters, ...(keyof typeof scanReporters)[]];

const limitsSchema = z.object(Object.fromEntries(Object.keys(defaultLimits).map((key) => [key, z.number().int().positive().optional()]))).strict();

export const configSchema = z
  .object({
    scan: z.object({ failOn: z.enum(severities).optional(), format: z.enum(formats).optional(), cache: z.boolean().optional(), workers: z.number().int().min(0).max(64).optional() }).strict().optional(),
    signatures: z.object({ dirs: z.array(z.string()).optional() }).strict().optional(),
    registry: z.object({ username: z.string().optional(), password: z.string().optional(), platform: z.string().optional(), insecure: z.boolean().optional() }).strict().optional(),
    limits: limitsSchema.optional(),
  })
  .strict();

export interface Config {
  scan: { failOn: (typeof severities)[number]; format: keyof typeof scanReporters; cache: boolean; /** Analysis worker threads; 0 analyzes on the main thread. Default: one per core. */ workers?: number };
  signatures: { dirs: string[] };
  registry: { username?: string; password?: string; platform: string; insecure: boolean };
  limits: Limits;
  /** The file the config came from, if any. */
  file?: string;
}

export function loadConfig(dataHome: string, explicitFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const file = explicitFile ?? env.NOMINE_CONFIG ?? (existsSync(join(dataHome, 'config.yaml')) ? join(dataHome, 'config.yaml') : undefined);
  const fromFile = file ? readConfigFile(file) : {};
  const envLayer = configSchema.safeParse(fromEnvironment(env));
  if (!envLayer.success) throw new NomineError('invalid-input', `environment: ${z.prettifyError(envLayer.error)}`, 'environment');
  const config: Config = {
    scan: { failOn: 'medium', format: 'table', cache: true, ...fromFile.scan, ...envLayer.data.scan },
    signatures: { dirs: [...(fromFile.signatures?.dirs ?? []), ...(envLayer.data.signatures?.dirs ?? [])] },
    registry: { platform: 'linux/amd64', insecure: false, ...fromFile.registry, ...envLayer.data.registry },
    limits: { ...defaultLimits, ...(fromFile.limits as Partial<Limits> | undefined) },
  };
  if (file) config.file = file;
  return config;
}

function readConfigFile(file: string): z.infer<typeof configSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new NomineError('not-found', `cannot read the config file: ${(error as Error).message}`, file, { cause: error });
  }
  let data: unknown;
  try {
    data = yaml().parse(text) ?? {};
  } catch (error) {
    throw new NomineError('invalid-input', `config file is not valid YAML: ${(error as Error).message}`, file, { cause: error });
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new NomineError('invalid-input', `invalid config: ${z.prettifyError(parsed.error)}`, file);
  return parsed.data;
}

function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const scan: Record<string, unknown> = {};
  if (env.NOMINE_FAIL_ON) scan.failOn = env.NOMINE_FAIL_ON;
  if (env.NOMINE_FORMAT) scan.format = env.NOMINE_FORMAT;
  if (env.NOMINE_SCAN_WORKERS) scan.workers = Number(env.NOMINE_SCAN_WORKERS);
  const registry: Record<string, unknown> = {};
  if (env.NOMINE_REGISTRY_USERNAME) registry.username = env.NOMINE_REGISTRY_USERNAME;
  if (env.NOMINE_REGISTRY_PASSWORD) registry.password = env.NOMINE_REGISTRY_PASSWORD;
  if (env.NOMINE_PLATFORM) registry.platform = env.NOMINE_PLATFORM;
  const layer: Record<string, unknown> = {};
  if (Object.keys(scan).length) layer.scan = scan;
  if (Object.keys(registry).length) layer.registry = registry;
  if (env.NOMINE_SIGNATURES) layer.signatures = { dirs: env.NOMINE_SIGNATURES.split(':').filter(Boolean) };
  return layer;
}
