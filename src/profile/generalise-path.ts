/**
 * Path generalisation: turns the files a workload writes into the patterns its profile allows. Random-looking parts
 * of a name (numbers, hex ids, UUIDs, mixed letter-digit tokens) become `*`, so a log rotated to `app.3.log` or a
 * temp file `/tmp/tmp8kz2x1` learns one pattern instead of a new entry each time; a directory with many distinct
 * children collapses to `dir/*`, and one with churn in depth to `dir/**`.
 *
 * Patterns: `*` matches any characters within one path segment; a `**` segment matches one or more segments.
 */
import { posix } from 'node:path';

export interface CollapseOptions {
  /** More distinct children than this in one directory collapse to `dir/*`. */
  siblingLimit: number;
  /** More distinct subdirectories with learned writes below them than this collapse to `dir/**`. */
  depthLimit: number;
}

export const defaultCollapseOptions: CollapseOptions = { siblingLimit: 8, depthLimit: 8 };

/**
 * Scratch directories exist for throwaway names: the first name below them is always `*`. Writing there is not
 * what a miner is caught by (executing what it wrote there is drift), and every tempfile would be new otherwise.
 */
const scratchDirectories = ['/tmp', '/var/tmp', '/dev/shm', '/run/lock'];

/** `**` is never learned this close to the root: `/var/**` or `/etc/**` would allow nearly everything. */
const minDeepCollapseDepth = 2;

/** Lexically resolved (`/tmp/../etc/passwd` is `/etc/passwd`), so a pattern cannot be escaped with `..`. */
export function normalisePath(path: string): string {
  if (path === '') return path;
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment, index) => segment !== '' || index === 0);
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function letterDigitChanges(token: string): number {
  let changes = 0;
  for (let index = 1; index < token.length; index++) {
    if (/[0-9]/.test(token[index - 1]!) !== /[0-9]/.test(token[index]!)) changes++;
  }
  return changes;
}

/** A token (a name part between `-`, `_`, `.`) that is an id or counter rather than a word. */
export function isRandomToken(token: string): boolean {
  if (token === '' || token === '*') return false;
  if (/^[0-9]+$/.test(token)) return true;
  const hasDigit = /[0-9]/.test(token);
  const hasLetter = /[A-Za-z]/.test(token);
  // Hex ids: `abc123`, `7f9c0a1b`; long all-letter hex (`deadbeefcafe`) too, but not short words like `facade`.
  if (/^[0-9a-fA-F]+$/.test(token) && ((hasDigit && hasLetter && token.length >= 6) || token.length >= 12)) return true;
  // Mixed tokens whose letters and digits interleave (`tmp8kz2x`, `a1b2c3`), unlike word-plus-version (`python3`).
  if (hasDigit && hasLetter && token.length >= 6 && letterDigitChanges(token) >= 3) return true;
  // Base64-ish or very long tokens with digits: session ids, content hashes.
  return hasDigit && hasLetter && token.length >= 16;
}

/** One path segment with its random parts replaced: `app-2024-01-02.log` → `app-*.log`, `tmp8kz2x1` → `*`. */
export function generaliseSegment(segment: string): string {
  if (segment === '.' || segment === '..' || segment === '*' || segment === '**') return segment;
  const withoutUuids = segment.replace(uuid, '*');
  const parts = withoutUuids.split(/([-_.]+)/);
  const generalised = parts.map((part, index) => (index % 2 === 0 && isRandomToken(part) ? '*' : part)).join('');
  // `*-*-*` is one wildcard: the number of random parts is itself random.
  return generalised.replace(/\*(?:[-_.]+\*)+/g, '*');
}

function isUnderScratch(path: string): string | undefined {
  return scratchDirectories.find((dir) => path.startsWith(`${dir}/`));
}

/** The pattern a written path learns. Paths are normalised first; `/var/log/nginx/access.log` stays exact. */
export function generalisePath(path: string): string {
  const normal = normalisePath(path);
  const scratch = isUnderScratch(normal);
  const segments = segmentsOf(normal);
  const firstFree = scratch ? segmentsOf(scratch).length : -1;
  return segments.map((segment, index) => (index === 0 && segment === '' ? '' : index === firstFree ? '*' : generaliseSegment(segment))).join('/');
}

function segmentRegExp(segment: string): RegExp {
  const source = segment.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
  return new RegExp(`^${source}$`);
}

const segmentCache = new Map<string, RegExp>();
const segmentCacheLimit = 4096;

function matchesSegment(text: string, pattern: string): boolean {
  if (!pattern.includes('*')) return text === pattern;
  let expression = segmentCache.get(pattern);
  if (!expression) {
    if (segmentCache.size >= segmentCacheLimit) segmentCache.clear();
    expression = segmentRegExp(pattern);
    segmentCache.set(pattern, expression);
  }
  return expression.test(text);
}

/**
 * Segment-wise match. With `textIsPattern`, the text is itself a pattern and `**` in it is only covered by `**`
 * (a one-segment `*` does not cover any depth).
 */
function matchSegments(text: readonly string[], pattern: readonly string[], ti: number, pi: number, textIsPattern: boolean): boolean {
  while (pi < pattern.length) {
    const current = pattern[pi]!;
    if (current === '**') {
      if (pi === pattern.length - 1) return ti < text.length;
      for (let next = ti + 1; next <= text.length; next++) {
        if (matchSegments(text, pattern, next, pi + 1, textIsPattern)) return true;
      }
      return false;
    }
    if (ti >= text.length) return false;
    const segment = text[ti]!;
    if (textIsPattern && segment === '**') return false;
    if (!matchesSegment(segment, current)) return false;
    ti++;
    pi++;
  }
  return ti === text.length;
}

/** Does a written path fall under a learned pattern? The path is normalised first. */
export function matchesPattern(path: string, pattern: string): boolean {
  return matchSegments(segmentsOf(normalisePath(path)), segmentsOf(pattern), 0, 0, false);
}

/** Does pattern `outer` allow everything pattern `inner` allows (as far as segment shapes tell)? */
export function patternCovers(outer: string, inner: string): boolean {
  // Inner's segments are matched as text: its `app-*.log` is covered by outer's `*` or `app-*.log`, not by `app-1.log`.
  return matchSegments(segmentsOf(inner), segmentsOf(outer), 0, 0, true);
}

function parentOf(pattern: string): string {
  const index = pattern.lastIndexOf('/');
  return index <= 0 ? '/' : pattern.slice(0, index);
}

function depthOf(directory: string): number {
  return directory === '/' ? 0 : segmentsOf(directory).length - 1;
}

function isScratch(directory: string): boolean {
  return scratchDirectories.includes(directory);
}

/** Drops patterns another one in the list already covers; keeps the first of equals. */
export function removeCovered(patterns: readonly string[]): string[] {
  const unique = [...new Set(patterns)];
  return unique.filter((pattern) => !unique.some((other) => other !== pattern && patternCovers(other, pattern)));
}

/**
 * Collapses churn: more than `siblingLimit` distinct children of one directory become `dir/*`; more than
 * `depthLimit` distinct subdirectories with writes below them become `dir/**` (not within two levels of the root,
 * except in scratch directories). Repeats until nothing changes.
 */
export function collapsePatterns(patterns: readonly string[], options: CollapseOptions = defaultCollapseOptions): string[] {
  let current = removeCovered(patterns);
  for (let round = 0; round < 16; round++) {
    const children = new Map<string, Set<string>>();
    const deepChildren = new Map<string, Set<string>>();
    for (const pattern of current) {
      if (!pattern.startsWith('/')) continue;
      const segments = segmentsOf(pattern);
      const parent = parentOf(pattern);
      if (parent !== '/') {
        const set = children.get(parent) ?? new Set<string>();
        set.add(segments.at(-1)!);
        children.set(parent, set);
      }
      // Every ancestor at least two levels above the file sees the child directory the write went through.
      for (let depth = 1; depth <= segments.length - 3; depth++) {
        const ancestor = segments.slice(0, depth + 1).join('/');
        const set = deepChildren.get(ancestor) ?? new Set<string>();
        set.add(segments[depth + 1]!);
        deepChildren.set(ancestor, set);
      }
    }
    const replacements: string[] = [];
    for (const [directory, names] of deepChildren) {
      if (names.size > options.depthLimit && (depthOf(directory) >= minDeepCollapseDepth || isScratch(directory))) {
        replacements.push(`${directory}/**`);
      }
    }
    for (const [directory, names] of children) {
      if (names.size > options.siblingLimit && !names.has('*')) replacements.push(`${directory}/*`);
    }
    if (replacements.length === 0) return current;
    const next = removeCovered([...replacements, ...current]);
    if (next.length === current.length && next.every((pattern, index) => pattern === current[index])) return current;
    current = next;
  }
  return current;
}
