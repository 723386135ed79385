/**
 * Docker host file facts (CIS Docker 1.6 section 3): owner, group and mode of the files that configure or expose
 * the daemon. Owner and group come from lstat (a symlink's own); the mode, for a symlink, from its target (a
 * link's own mode is always 0777 and means nothing).
 * One `docker.host` entity; a missing file has `exists: false` and its checks are not applicable. Facts:
 *   files.dockerService, files.dockerSocketUnit   the systemd units (first found in the unit directories)
 *   files.etcDocker, files.daemonJson, files.etcDefaultDocker, files.etcSysconfigDocker, files.socket
 *   registryCerts[]   every file in /etc/docker/certs.d/<registry>/
 *   tls.ca, tls.cert, tls.key   the files dockerd's --tlscacert/--tlscert/--tlskey (or daemon.json) name
 *   dataRoot, auditRules   section 1 host facts (docker-host-system.ts): the data root's partition, auditd watches
 * Each file: { path, exists, type, uid, gid, group, mode } (mode: permission bits as a number, 0o644 = 420).
 * Every path is injectable, so tests point the collector at a temporary tree.
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyCollection, type Collection } from '../audit-entity.ts';
import { auditRuleFacts, dataRootFacts } from './docker-host-system.ts';

export interface HostFilePaths {
  unitDirs: string[];
  etcDocker: string;
  daemonJson: string;
  etcDefaultDocker: string;
  etcSysconfigDocker: string;
  socket: string;
  containerdSocket: string;
  /** /etc/group, for group names. */
  groupFile: string;
  tls: { ca?: string; cert?: string; key?: string };
  /** dockerd's data root (/info DockerRootDir); without it, no `dataRoot` facts. */
  dataRoot?: string;
  /** The mount table read for the data root's partition. */
  mountinfo: string;
  /** auditd's rules directory (audit.rules, rules.d/*.rules). */
  auditDir: string;
}

export const defaultHostFilePaths: HostFilePaths = {
  unitDirs: ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'],
  etcDocker: '/etc/docker',
  daemonJson: '/etc/docker/daemon.json',
  etcDefaultDocker: '/etc/default/docker',
  etcSysconfigDocker: '/etc/sysconfig/docker',
  socket: '/var/run/docker.sock',
  containerdSocket: '/run/containerd/containerd.sock',
  groupFile: '/etc/group',
  tls: {},
  mountinfo: '/proc/self/mountinfo',
  auditDir: '/etc/audit',
};

export interface HostFileFacts {
  path: string;
  exists: boolean;
  type?: 'file' | 'directory' | 'socket' | 'symlink' | 'other';
  uid?: number;
  gid?: number;
  group?: string;
  /** Permission bits (mode & 0o7777). */
  mode?: number;
  /** The same, as octal text for people: '0644'. */
  modeOctal?: string;
}

/** Registry certificate files are a handful per registry; a directory of thousands is not what this audits. */
const maxRegistryCertFiles = 1000;

async function readGroups(path: string): Promise<Map<number, string>> {
  const groups = new Map<number, string>();
  const text = await readFile(path, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid && /^\d+$/.test(gid) && !groups.has(Number(gid))) groups.set(Number(gid), name);
  }
  return groups;
}

async function statFile(path: string, groups: Map<number, string>): Promise<HostFileFacts> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return { path, exists: false };
  }
  // A symlinked unit or socket: its owner is the link's (as lstat says), its permissions those of the target.
  const target = info.isSymbolicLink() ? await stat(path).catch(() => undefined) : undefined;
  const effective = target ?? info;
  const type = effective.isFile() ? 'file' : effective.isDirectory() ? 'directory' : effective.isSocket() ? 'socket' : effective.isSymbolicLink() ? 'symlink' : 'other';
  const mode = effective.mode & 0o7777;
  return {
    path,
    exists: true,
    type,
    uid: info.uid,
    gid: info.gid,
    ...(groups.has(info.gid) ? { group: groups.get(info.gid) as string } : {}),
    mode,
    modeOctal: `0${mode.toString(8).padStart(3, '0')}`,
  };
}

async function firstUnit(dirs: string[], name: string, groups: Map<number, string>): Promise<HostFileFacts> {
  for (const dir of dirs) {
    const facts = await statFile(join(dir, name), groups);
    if (facts.exists) return facts;
  }
  return { path: join(dirs[0] ?? '/lib/systemd/system', name), exists: false };
}

async function registryCertFiles(etcDocker: string, groups: Map<number, string>): Promise<HostFileFacts[]> {
  const root = join(etcDocker, 'certs.d');
  const files: HostFileFacts[] = [];
  const registries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const registry of registries) {
    if (!registry.isDirectory()) continue;
    const entries = await readdir(join(root, registry.name)).catch(() => [] as string[]);
    for (const entry of entries.sort()) {
      if (files.length >= maxRegistryCertFiles) return files;
      files.push(await statFile(join(root, registry.name, entry), groups));
    }
  }
  return files;
}

/** The TLS files a daemon's effective settings name (dockerd flags merged with daemon.json, in daemon.json's names). */
export function tlsFilesFromSettings(settings: Record<string, unknown> | undefined): HostFilePaths['tls'] {
  const pick = (key: string) => (typeof settings?.[key] === 'string' && settings[key] !== '' ? (settings[key] as string) : undefined);
  const ca = pick('tlscacert');
  const cert = pick('tlscert');
  const key = pick('tlskey');
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

export async function collectDockerHostFiles(overrides: Partial<HostFilePaths> = {}): Promise<Collection> {
  const paths: HostFilePaths = { ...defaultHostFilePaths, ...overrides };
  const groups = await readGroups(paths.groupFile);
  const absent = (path: string | undefined): Promise<HostFileFacts> => (path ? statFile(path, groups) : Promise.resolve({ path: '', exists: false }));
  const facts = {
    files: {
      dockerService: await firstUnit(paths.unitDirs, 'docker.service', groups),
      dockerSocketUnit: await firstUnit(paths.unitDirs, 'docker.socket', groups),
      etcDocker: await statFile(paths.etcDocker, groups),
      daemonJson: await statFile(paths.daemonJson, groups),
      etcDefaultDocker: await statFile(paths.etcDefaultDocker, groups),
      etcSysconfigDocker: await statFile(paths.etcSysconfigDocker, groups),
      socket: await statFile(paths.socket, groups),
      containerdSocket: await statFile(paths.containerdSocket, groups),
    },
    registryCerts: await registryCertFiles(paths.etcDocker, groups),
    tls: { ca: await absent(paths.tls.ca), cert: await absent(paths.tls.cert), key: await absent(paths.tls.key) },
    ...(paths.dataRoot ? { dataRoot: await dataRootFacts(paths.dataRoot, paths.mountinfo) } : {}),
    auditRules: await auditRuleFacts(paths.auditDir),
  };
  const collection = emptyCollection();
  collection.entities.push({
    target: 'docker.host',
    kind: 'host',
    name: 'docker host files',
    facts,
    locate: (field) => {
      if (field.startsWith('auditRules')) return { path: facts.auditRules.files[0] ?? join(paths.auditDir, 'rules.d') };
      if (field.startsWith('dataRoot')) return { path: paths.mountinfo };
      // `files.socket.mode` → the socket's path; `registryCerts[2].uid` → that file.
      const match = /^(files\.[A-Za-z]+|tls\.[a-z]+|registryCerts\[\d+\])/.exec(field)?.[1];
      if (!match) return undefined;
      const [group, rest] = match.startsWith('registryCerts') ? ['registryCerts', Number(/\d+/.exec(match)?.[0])] : match.split('.');
      const holder = (facts as unknown as Record<string, Record<string, HostFileFacts> | HostFileFacts[]>)[group as string];
      const file = Array.isArray(holder) ? holder[rest as number] : holder?.[rest as string];
      return file?.path ? { path: file.path } : undefined;
    },
  });
  return collection;
}
