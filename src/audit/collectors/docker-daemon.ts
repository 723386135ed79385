/**
 * Docker daemon facts, from three places that each know something the others do not: the Engine API's /info
 * (what the daemon actually runs with: logging driver, live restore, security options, insecure registries),
 * the running dockerd's command line from /proc (flags /info does not report: icc, TCP hosts, TLS), and its
 * config file (daemon.json, the flag's `--config-file` or the one given). Facts:
 *   settings           config file merged with command-line flags, in daemon.json's names
 *   info               /info as returned
 *   security           /info's SecurityOptions parsed (seccomp, seccompProfile, userns, apparmor, rootless)
 *   insecureRegistries effective insecure registries, without the 127.0.0.0/8 every daemon trusts
 *   process, configFile where the settings came from (found or not)
 */
import { readdir, readFile } from 'node:fs/promises';
import { parseDocument, LineCounter, isMap, isScalar } from 'yaml';
import type { Location } from '../../core/finding.ts';
import { toNomineError } from '../../core/errors.ts';
import type { DockerClient } from '../../platform/docker-client.ts';
import { emptyCollection, type Collection } from '../audit-entity.ts';
import { parseDockerdArgs, parseSecurityOptions } from './dockerd-flags.ts';

export const defaultDaemonConfig = '/etc/docker/daemon.json';
/** daemon.json is a few hundred bytes; a megabyte is a mistake. */
const maxDaemonConfigBytes = 1024 * 1024;

export interface DaemonCollectorOptions {
  /** daemon.json to read instead of the one dockerd was started with (or /etc/docker/daemon.json). */
  configFile?: string;
  /** Where /proc is (tests point it at a fixture tree). */
  procRoot?: string;
  signal?: AbortSignal;
}

interface DockerdProcess {
  pid: number;
  argv: string[];
}

async function findDockerdProcesses(procRoot: string): Promise<DockerdProcess[]> {
  const found: DockerdProcess[] = [];
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`${procRoot}/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== 'dockerd') continue;
    const raw = await readFile(`${procRoot}/${entry}/cmdline`).catch(() => undefined);
    if (!raw) continue;
    found.push({ pid: Number(entry), argv: raw.toString('utf8').split('\0').filter((part, i, all) => part !== '' || i < all.length - 1) });
  }
  return found;
}

/** The dockerd serving `socketPath`: the one whose -H names it, or the one with no -H when it is the default socket. */
function pickProcess(processes: DockerdProcess[], socketPath: string): DockerdProcess | undefined {
  const wanted = `unix://${socketPath}`;
  const listens = (process: DockerdProcess): string[] => {
    const hosts = parseDockerdArgs(process.argv).settings.hosts;
    return Array.isArray(hosts) ? (hosts as string[]) : [];
  };
  return (
    processes.find((process) => listens(process).some((host) => host === wanted || host === socketPath)) ??
    (socketPath === '/var/run/docker.sock' || socketPath === '/run/docker.sock' ? processes.find((process) => listens(process).length === 0) : undefined)
  );
}

interface ConfigRead {
  settings: Record<string, unknown>;
  lines: Record<string, number>;
  found: boolean;
  error?: string;
}

async function readDaemonConfig(path: string): Promise<ConfigRead> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > maxDaemonConfigBytes) return { settings: {}, lines: {}, found: true, error: `larger than ${maxDaemonConfigBytes} bytes` };
    text = bytes.toString('utf8');
  } catch (error) {
    // No daemon.json is the common, valid case: every setting has its default.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {}, lines: {}, found: false };
    return { settings: {}, lines: {}, found: false, error: (error as Error).message };
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (error) {
    return { settings: {}, lines: {}, found: true, error: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return { settings: {}, lines: {}, found: true, error: 'not a JSON object' };
  // JSON is YAML, and the YAML parser keeps positions: line numbers for evidence.
  const lines: Record<string, number> = {};
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter });
  if (isMap(document.contents)) {
    for (const pair of document.contents.items) {
      if (isScalar(pair.key) && pair.key.range) lines[String(pair.key.value)] = counter.linePos(pair.key.range[0]).line;
    }
  }
  return { settings: settings as Record<string, unknown>, lines, found: true };
}

function effectiveInsecureRegistries(info: Record<string, unknown>): string[] {
  const registry = (info.RegistryConfig ?? {}) as { InsecureRegistryCIDRs?: unknown; IndexConfigs?: unknown };
  const cidrs = Array.isArray(registry.InsecureRegistryCIDRs) ? (registry.InsecureRegistryCIDRs as string[]).filter((cidr) => cidr !== '127.0.0.0/8' && cidr !== '::1/128') : [];
  const indexes = typeof registry.IndexConfigs === 'object' && registry.IndexConfigs !== null ? Object.values(registry.IndexConfigs as Record<string, { Name?: string; Secure?: boolean }>) : [];
  return [...cidrs, ...indexes.filter((index) => index.Secure === false && index.Name).map((index) => index.Name as string)];
}

export async function collectDockerDaemon(client: DockerClient, options: DaemonCollectorOptions = {}): Promise<Collection> {
  const collection = emptyCollection();
  const name = `dockerd unix://${client.socketPath}`;
  let info: Record<string, unknown>;
  try {
    info = await client.json<Record<string, unknown>>({ path: '/info', part: name, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    const failure = toNomineError(error);
    collection.errors.push({ target: 'docker.daemon', kind: 'host', name, code: failure.code, message: failure.describe() });
    return collection;
  }
  const procRoot = options.procRoot ?? '/proc';
  const dockerd = pickProcess(await findDockerdProcesses(procRoot), client.socketPath);
  const flags = dockerd ? parseDockerdArgs(dockerd.argv) : { settings: {}, positions: {} };
  const configPath = options.configFile ?? (typeof flags.settings['config-file'] === 'string' ? (flags.settings['config-file'] as string) : defaultDaemonConfig);
  const config = await readDaemonConfig(configPath);
  if (config.error) collection.errors.push({ target: 'docker.daemon', kind: 'file', name: configPath, code: 'invalid-input', message: `daemon config ${config.error}`, location: { path: configPath } });

  const settings = { ...config.settings, ...flags.settings };
  const cmdlinePath = dockerd ? `${procRoot}/${dockerd.pid}/cmdline` : undefined;
  const locate = (field: string): Location | undefined => {
    const key = /^settings\.([^.[]+)/.exec(field)?.[1];
    if (!key) return undefined;
    if (cmdlinePath && key in flags.settings) return { path: cmdlinePath };
    // Set in the file: its line. Set nowhere: the file is where the fix goes, whether or not it exists yet.
    const line = config.found ? config.lines[key] : undefined;
    return line ? { path: configPath, line } : { path: configPath };
  };
  collection.entities.push({
    target: 'docker.daemon',
    kind: 'host',
    name,
    facts: {
      settings,
      info,
      security: parseSecurityOptions(info.SecurityOptions),
      insecureRegistries: effectiveInsecureRegistries(info),
      process: dockerd ? { found: true, pid: dockerd.pid, argv: dockerd.argv } : { found: false },
      configFile: { path: configPath, found: config.found },
    },
    locate,
  });
  return collection;
}
