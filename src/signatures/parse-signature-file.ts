/**
 * Parses one YAML or JSON signature file and validates it, reporting problems as NomineError('invalid-input') whose
 * `part` is `path:line`. JSON goes through the YAML parser too (JSON is YAML 1.2), which keeps node positions, so a
 * schema error points at the offending line in either format.
 */
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { NomineError } from '../core/errors.ts';
import { lazyRequire } from '../platform/lazy-require.ts';
import { signatureFile, type SignatureFile } from './schema.ts';

// Loaded on first parse: a scan whose signature files are in the parsed-file cache never needs it.
const yaml = lazyRequire<typeof import('yaml')>('yaml');

/** The line a zod issue's path points at in a YAML document, or the nearest enclosing node's line. */
export function lineOfPath(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  // Walk down as far as the path exists: a missing key is reported at the object that lacks it.
  for (let depth = path.length; depth >= 0; depth--) {
    const keys = path.slice(0, depth).map((key) => (typeof key === 'symbol' ? String(key) : key));
    const node = depth === 0 ? doc.contents : doc.getIn(keys, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
}

export function parseSignatureFile(path: string, content: string): SignatureFile {
  const { LineCounter, isMap, isSeq, parseDocument } = yaml();
  const counter = new LineCounter();
  const doc = parseDocument(content, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line ?? counter.linePos(syntax.pos[0]).line;
    throw new NomineError('invalid-input', `invalid signature file: ${syntax.message.split('\n')[0]}`, `${path}:${line}`);
  }
  if (!isMap(doc.contents) && !isSeq(doc.contents)) {
    throw new NomineError('invalid-input', 'invalid signature file: expected an object with schemaVersion and kind', path);
  }
  const result = signatureFile.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const line = lineOfPath(doc, counter, issue.path);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
    throw new NomineError('invalid-input', `invalid signature file: ${describeIssue(issue)}${more}`, line ? `${path}:${line}` : path);
  }
  return result.data;
}
