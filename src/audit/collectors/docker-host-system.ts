/**
 * Docker host facts of CIS Docker 1.6 section 1 (host configuration), read from files so tests can point them at
 * a fixture tree:
 *   dataRoot     { path, isMountPoint, mountPoint }: whether dockerd's data root (/info DockerRootDir) is a mount
 *                point of its own (1.1.1), from a mountinfo file (/proc/self/mountinfo); mountPoint is the mount
 *                that holds it
 *   auditRules   { configured, files, watched }: the paths auditd watches (`-w PATH`, or `-F path=`/`-F dir=` in a
 *                syscall rule) in /etc/audit/audit.rules and /etc/audit/rules.d/*.rules; `configured: false` when
 *                none of those files exists (auditd not set up at all)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DataRootFacts {
  path: string;
  isMountPoint?: boolean;
  mountPoint?: string;
  /** Why the mount table could not be read, when it could not. */
  error?: string;
}

export interface AuditRuleFacts {
  configured: boolean;
  files: string[];
  /** Watched paths, without a trailing slash. */
  watched: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Mount points of a /proc/PID/mountinfo text (field 5). */
export function parseMountPoints(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length >= 5 && fields[4]) points.push(trimSlash(unescapeMountPath(fields[4])));
  }
  return points;
}

export async function dataRootFacts(dataRoot: string, mountinfo: string): Promise<DataRootFacts> {
  let text: string;
  try {
    text = await readFile(mountinfo, 'utf8');
  } catch (error) {
    return { path: dataRoot, error: `cannot read ${mountinfo}: ${(error as Error).message}` };
  }
  const root = trimSlash(dataRoot);
  const points = parseMountPoints(text);
  const holders = points.filter((point) => point === '/' || root === point || root.startsWith(`${point}/`));
  const mountPoint = holders.sort((a, b) => b.length - a.length)[0];
  return { path: dataRoot, isMountPoint: points.includes(root), ...(mountPoint ? { mountPoint } : {}) };
}

/** Paths watched by auditctl rules text: `-w /usr/bin/dockerd -k docker`, `-a always,exit -F path=/usr/bin/runc ...`. */
export function parseAuditWatches(text: string): string[] {
  const watched: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    for (let i = 0; i < words.length; i += 1) {
      const word = words[i] as string;
      if (word === '-w' && words[i + 1]) watched.push(trimSlash(words[i + 1] as string));
      else if (word.startsWith('-w') && word.length > 2 && !word.startsWith('-w=')) watched.push(trimSlash(word.slice(2)));
      else if (word === '-F' && words[i + 1]) {
        const match = /^(?:path|dir)=(.+)$/.exec(words[i + 1] as string);
        if (match?.[1]) watched.push(trimSlash(match[1]));
      }
    }
  }
  return [...new Set(watched)];
}

/** Rules files are a few kilobytes; do not read a runaway directory whole. */
const maxRulesFiles = 500;

export async function auditRuleFacts(auditDir: string): Promise<AuditRuleFacts> {
  const candidates = [join(auditDir, 'audit.rules')];
  const dropIns = await readdir(join(auditDir, 'rules.d')).catch(() => [] as string[]);
  candidates.push(...dropIns.filter((name) => name.endsWith('.rules')).sort().slice(0, maxRulesFiles).map((name) => join(auditDir, 'rules.d', name)));
  const files: string[] = [];
  const watched = new Set<string>();
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    files.push(file);
    for (const path of parseAuditWatches(text)) watched.add(path);
  }
  return { configured: files.length > 0, files, watched: [...watched] };
}
