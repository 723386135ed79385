/**
 * Keyword matching: a keyword list compiled to one global regular expression, run over file contents read as latin1
 * (one character per byte, so offsets are byte offsets and binaries need no decoding) or over image metadata text.
 */
import type { KeywordList } from './signatures.ts';
import type { KeywordListData } from './schema.ts';

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileKeywordList(list: KeywordListData, source: string): KeywordList {
  const parts = [...list.literals.map(escapeRegExp), ...list.patterns.map((p) => `(?:${p})`)];
  return {
    id: list.id,
    summary: list.summary,
    strength: list.strength,
    ...(list.severity ? { severity: list.severity } : {}),
    scopes: list.scopes,
    matcher: new RegExp(parts.join('|'), list.caseSensitive ? 'g' : 'gi'),
    source,
  };
}

export interface KeywordHits {
  /** Distinct matched texts, in order of first appearance, at most `maxExamples`. */
  examples: string[];
  /** Offset of the first match. */
  firstOffset: number;
  /** Matches counted, stopping at `maxCount`. */
  count: number;
}

/** Bounds per list and file: a file full of one pool URL is one finding, not a megabyte of evidence. */
export const maxKeywordExamples = 3;
const maxKeywordCount = 1000;
const maxExampleLength = 120;

export function findKeywords(list: KeywordList, text: string): KeywordHits | undefined {
  const matcher = new RegExp(list.matcher.source, list.matcher.flags); // own lastIndex: lists are shared
  const examples: string[] = [];
  let firstOffset = -1;
  let count = 0;
  for (let match = matcher.exec(text); match !== null && count < maxKeywordCount; match = matcher.exec(text)) {
    if (match[0].length === 0) {
      matcher.lastIndex++;
      continue;
    }
    if (firstOffset < 0) firstOffset = match.index;
    count++;
    const example = match[0].slice(0, maxExampleLength);
    if (examples.length < maxKeywordExamples && !examples.includes(example)) examples.push(example);
  }
  return count > 0 ? { examples, firstOffset, count } : undefined;
}
