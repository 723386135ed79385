/**
 * YAML locations: the file and line of a path inside one parsed YAML document, from the parser's node ranges and
 * a LineCounter. A path that does not exist (a missing `securityContext`) is placed at its deepest existing
 * ancestor: that is where the fix goes.
 */
import { isCollection, isMap, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { Location } from '../../core/finding.ts';
import { parseFieldPath } from '../field-path.ts';

export type SourcePath = (string | number)[];

export type YamlLocator = (path: SourcePath) => Location;

export function yamlLocator(document: Document, counter: LineCounter, file: string): YamlLocator {
  return (path) => {
    let node: unknown = document.contents;
    let offset = (document.contents as Node | null)?.range?.[0] ?? document.range?.[0] ?? 0;
    for (const step of path) {
      if (!isCollection(node)) break;
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === step);
        if (!pair) break;
        const key = pair.key as Node | null;
        if (key?.range) offset = key.range[0];
        next = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        next = node.items[step];
        if (next === undefined) break;
      } else break;
      const range = (next as Node | null)?.range;
      if (range && !isMap(next)) offset = range[0]; // a map's own range starts at its first key: keep the key's line
      node = next;
    }
    return { path: file, line: counter.linePos(offset).line };
  };
}

/** A fact path (`containers[0].securityContext`) as source path steps. */
export function toSourcePath(field: string): SourcePath {
  return parseFieldPath(field).map((step) => ('key' in step ? step.key : 'index' in step ? step.index : '*'));
}
