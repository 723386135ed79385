/**
 * dockerd's command line as daemon.json settings: `--icc=false` becomes `icc: false`, repeated `-H` becomes
 * `hosts: [...]`, `--log-opt k=v` becomes `log-opts: {k: v}`. Checks then read one vocabulary whichever way the
 * operator configured the daemon (dockerd refuses to start when both set the same option, so there is no conflict).
 */

/** Flags that take no value: `--live-restore` alone means true, and the next argument is not its value. */
const booleanFlags = new Set([
  'icc', 'live-restore', 'no-new-privileges', 'userland-proxy', 'iptables', 'ip6tables', 'ip-forward', 'ip-masq', 'tls', 'tlsverify',
  'selinux-enabled', 'experimental', 'debug', 'rootless', 'init', 'ipv6', 'raw-logs', 'help', 'version', 'validate',
]);

const shortFlags: Record<string, string> = { H: 'host', D: 'debug', l: 'log-level', G: 'group', p: 'pidfile', b: 'bridge' };

/** Flag name → daemon.json key, where they differ (lists are plural in the file). */
const listKeys: Record<string, string> = {
  host: 'hosts',
  'insecure-registry': 'insecure-registries',
  'authorization-plugin': 'authorization-plugins',
  'registry-mirror': 'registry-mirrors',
  'default-ulimit': 'default-ulimits',
  label: 'labels',
  dns: 'dns',
  'exec-opt': 'exec-opts',
  'storage-opt': 'storage-opts',
  'add-runtime': 'runtimes',
};
const mapKeys: Record<string, string> = { 'log-opt': 'log-opts' };

export interface ParsedDockerdArgs {
  settings: Record<string, unknown>;
  /** Settings key → index of the argument that set it, for evidence. */
  positions: Record<string, number>;
}

function coerce(name: string, value: string | undefined): unknown {
  if (booleanFlags.has(name)) return value === undefined ? true : value !== 'false' && value !== '0';
  return value ?? '';
}

export function parseDockerdArgs(argv: readonly string[]): ParsedDockerdArgs {
  const settings: Record<string, unknown> = {};
  const positions: Record<string, number> = {};
  // argv[0] is the program; `dockerd` may also be invoked as `docker daemon` on very old hosts.
  for (let i = 1; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const match = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    let name = match[1] ?? '';
    if (!arg.startsWith('--')) name = shortFlags[name] ?? name;
    let value = match[2];
    if (value === undefined && !booleanFlags.has(name) && i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('-')) {
      value = argv[i + 1];
      i += 1;
    }
    const listKey = listKeys[name];
    const mapKey = mapKeys[name];
    if (listKey) {
      (settings[listKey] as string[] | undefined) ?? (settings[listKey] = []);
      (settings[listKey] as string[]).push(value ?? '');
      positions[listKey] ??= i;
    } else if (mapKey) {
      const [key = '', ...rest] = (value ?? '').split('=');
      ((settings[mapKey] as Record<string, string> | undefined) ?? (settings[mapKey] = {}) as Record<string, string>)[key] = rest.join('=');
      positions[mapKey] ??= i;
    } else {
      settings[name] = coerce(name, value);
      positions[name] = i;
    }
  }
  return { settings, positions };
}

/** The security options /info reports (`name=seccomp,profile=default`, `name=userns`), as a small record. */
export function parseSecurityOptions(options: unknown): Record<string, unknown> {
  const security: Record<string, unknown> = { seccomp: false, apparmor: false, selinux: false, userns: false, rootless: false, cgroupns: false };
  if (!Array.isArray(options)) return security;
  for (const option of options) {
    if (typeof option !== 'string') continue;
    const fields = Object.fromEntries(option.split(',').map((pair) => pair.split('=') as [string, string | undefined]));
    const name = fields.name ?? option; // engines before 1.13 sent bare names
    security[name] = true;
    if (name === 'seccomp') security.seccompProfile = fields.profile ?? 'default';
  }
  return security;
}
