/**
 * Match requirements: what any match of a keyword pattern (a JavaScript regular expression run over latin1 text,
 * flags `g` or `gi`) must contain, so a cheap native pass can rule a file out before the expression runs. Either
 * one of a few literal factors (`stratum+tcp://`, `"method"`), or a run of at least N consecutive bytes from a
 * class (a wallet address: 95 base58 characters). The analysis is conservative: a construct it does not fully
 * understand yields no requirement (the expression then always runs), never a wrong one; it over-approximates
 * (lookarounds and anchors are ignored, a class may widen), which only costs an extra expression run.
 */

/** At least one of `factors` occurs in every match; compared case-insensitively (ASCII) when `caseless`. */
export interface FactorRequirement {
  kind: 'factors';
  factors: string[];
}

/** Every match is a run of at least `minLength` bytes, each with `chars[byte] === 1`. */
export interface RunRequirement {
  kind: 'run';
  chars: Uint8Array;
  minLength: number;
}

/**
 * Every match is a whole token: a maximal run of `edge` bytes (the bytes around it are not in `edge`), between
 * `minLength` and `maxLength` long, made of `chars` bytes only. What `(?<![0-9A-Za-z])…(?![0-9A-Za-z])` around an
 * address says; far rarer in binaries than a mere run, where long symbol names abound.
 */
export interface TokenRequirement {
  kind: 'token';
  edge: Uint8Array;
  chars: Uint8Array;
  minLength: number;
  maxLength: number;
  /** Classes the token holds at least one byte of each (from lookaheads like `(?=[0-9A-Za-z]*[1-9])`). */
  mustContain: Uint8Array[];
}

export type MatchRequirement = FactorRequirement | RunRequirement | TokenRequirement;

/** Factors shorter than this hit too often to be worth a pass; below this a pattern has no usable factor. */
export const minFactorLength = 3;
/** A run requirement is used when at least this long and its class excludes at least half the byte values. */
const minRunLength = 16;
const maxRunClassSize = 128;
/** Factors of this length or more are preferred to a run requirement. */
const goodFactorLength = 4;
/** Bounds of the exact-string sets the analysis tracks (`stratum[12]?\+(?:tcp|ssl)` is 6 strings). */
const maxExactStrings = 64;
const maxExactClass = 8;

class Unsupported extends Error {}

/** What the analysis knows about a sub-expression. */
interface Info {
  /** Every string it can match (lower-cased when caseless), when known and few; may contain ''. */
  exact?: Set<string>;
  /** Non-empty strings one of which every match contains, when known. */
  factors?: Set<string>;
  minLength: number;
  maxLength: number;
  /** Bytes it can consume (flags over 0-255); undefined when unknown (a backreference). */
  chars?: Uint8Array;
  /** For one character: bytes it surely matches (a subset of `chars`; undefined when not known exactly). */
  matched?: Uint8Array;
  /** Set when it is `[W]*` for a single-byte class W: the bytes of W. */
  star?: Uint8Array;
  /** A negative lookaround of one character class: which side, and the bytes it refuses there. */
  edge?: { side: 'behind' | 'ahead'; refused: Uint8Array };
  /** For a sequence fenced by such lookarounds: the token its matches are. */
  token?: TokenRequirement;
  /** `[W]*[N]`: bytes it walks over, then the byte class it ends on. */
  seek?: { walk: Uint8Array; need: Uint8Array };
  /** A positive lookahead `(?=[W]*[N])`: a byte of N lies ahead, past W bytes only. */
  ahead?: { walk: Uint8Array; need: Uint8Array };
}

const emptyInfo = (): Info => ({ exact: new Set(['']), minLength: 0, maxLength: 0, chars: new Uint8Array(256) });

function union(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (!a || !b) return undefined;
  const out = new Uint8Array(256);
  for (let i = 0; i < 256; i++) out[i] = a[i]! | b[i]!;
  return out;
}

function setOf(ranges: [number, number][]): Uint8Array {
  const out = new Uint8Array(256);
  for (const [from, to] of ranges) for (let c = from; c <= Math.min(to, 255); c++) out[c] = 1;
  return out;
}

const digits = setOf([[0x30, 0x39]]);
const word = setOf([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]]);
// JavaScript's \s restricted to latin1: tab, LF, VT, FF, CR, space and NBSP.
const space = setOf([[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0]]);
const complement = (set: Uint8Array) => set.map((flag) => 1 - flag);
const anyByte = setOf([[0, 255]]);

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The class as the expression sees it: case-insensitive matching adds the other case of ASCII letters, and of
 * latin1 letters too (JavaScript folds é/É), which is approximated by adding every byte from 0x80 up. */
function caseClosed(set: Uint8Array, caseless: boolean): Uint8Array {
  if (!caseless) return set;
  const out = set.slice();
  for (let c = 0; c < 256; c++) {
    if (!set[c]) continue;
    if (isAsciiLetter(c)) out[c ^ 0x20] = 1;
    else if (c >= 0x80) for (let d = 0x80; d < 256; d++) out[d] = 1;
  }
  return out;
}

/** The bytes a class surely matches: its own, and under `i` the other case of ASCII letters. */
function surelyMatched(set: Uint8Array, caseless: boolean): Uint8Array {
  if (!caseless) return set;
  const out = set.slice();
  for (let c = 0; c < 256; c++) if (set[c] && isAsciiLetter(c)) out[c ^ 0x20] = 1;
  return out;
}

function charInfo(set: Uint8Array, caseless: boolean, exactSet = true): Info {
  const chars = caseClosed(set, caseless);
  const strings = new Set<string>();
  let exact: Set<string> | undefined = strings;
  for (let c = 0; c < 256 && exact; c++) {
    if (!set[c]) continue;
    // Factors are handed to YARA as ASCII; latin1 bytes above 0x7f stay out of them.
    if (c >= 0x80) exact = undefined;
    else strings.add(String.fromCharCode(caseless && isAsciiLetter(c) ? c | 0x20 : c));
    if (strings.size > maxExactClass) exact = undefined;
  }
  return { ...(exact && exact.size > 0 ? { exact } : {}), minLength: 1, maxLength: 1, chars, ...(exactSet ? { matched: surelyMatched(set, caseless) } : {}) };
}

/** Score of a factor set: its shortest string; sets with '' or none are worthless. */
function score(set: Set<string> | undefined): number {
  if (!set || set.size === 0) return 0;
  let shortest = Infinity;
  for (const s of set) shortest = Math.min(shortest, s.length);
  return shortest;
}

function better(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  const sa = score(a);
  const sb = score(b);
  if (sa !== sb) return sa > sb ? a : b;
  if (!a || !b) return a ?? b;
  return a.size <= b.size ? a : b;
}

/** The best factor set an Info offers: its own factors, or its exact strings when none is empty. */
function bestFactors(info: Info): Set<string> | undefined {
  const exact = info.exact && !info.exact.has('') ? info.exact : undefined;
  return better(info.factors, exact);
}

function product(a: Set<string>, b: Set<string>): Set<string> | undefined {
  if (a.size * b.size > maxExactStrings) return undefined;
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return out;
}

function concat(parts: Info[]): Info {
  if (parts.length === 0) return emptyInfo();
  if (parts.length === 1) return parts[0]!;
  let best: Set<string> | undefined;
  let run: Set<string> | undefined = new Set(['']);
  let allExact = true;
  for (const part of parts) {
    best = better(best, bestFactors(part));
    const next: Set<string> | undefined = run && part.exact ? product(run, part.exact) : undefined;
    if (next) {
      run = next;
      continue;
    }
    allExact = false;
    if (run && !run.has('')) best = better(best, run);
    run = part.exact ? new Set(part.exact) : undefined;
  }
  if (run && !run.has('')) best = better(best, run);
  const minLength = parts.reduce((sum, part) => sum + part.minLength, 0);
  const maxLength = parts.reduce((sum, part) => sum + part.maxLength, 0);
  const chars = parts.reduce<Uint8Array | undefined>((acc, part) => union(acc, part.chars), new Uint8Array(256));
  const token = tokenOf(parts);
  const seek = seekOf(parts);
  return {
    ...(allExact && run ? { exact: run } : {}),
    ...(best ? { factors: best } : {}),
    minLength,
    maxLength,
    ...(chars ? { chars } : {}),
    ...(token ? { token } : {}),
    ...(seek ? { seek } : {}),
  };
}

/** `[W]*[N]`: a starred single-byte class followed by a single-byte class. */
function seekOf(parts: Info[]): Info['seek'] {
  if (parts.length !== 2) return undefined;
  const [walk, need] = parts as [Info, Info];
  if (!walk.star || !need.chars || need.minLength !== 1 || need.maxLength !== 1) return undefined;
  return { walk: walk.star, need: need.chars };
}

const within = (set: Uint8Array, outer: Uint8Array) => set.every((flag, c) => flag === 0 || outer[c] === 1);

/** `(?<!S) body (?!S')` with every body byte in both S and S': the body is a whole token of S ∩ S' bytes. */
function tokenOf(parts: Info[]): TokenRequirement | undefined {
  const first = parts[0]?.edge;
  const last = parts.at(-1)?.edge;
  if (parts.length < 3 || first?.side !== 'behind' || last?.side !== 'ahead') return undefined;
  const body = parts.slice(1, -1);
  const chars = body.reduce<Uint8Array | undefined>((acc, part) => union(acc, part.chars), new Uint8Array(256));
  const minLength = body.reduce((sum, part) => sum + part.minLength, 0);
  const maxLength = body.reduce((sum, part) => sum + part.maxLength, 0);
  if (!chars || minLength < 1 || maxLength === Infinity) return undefined;
  const edge = first.refused.map((flag, c) => flag & last.refused[c]!);
  if (!within(chars, edge)) return undefined;
  // A lookahead walking edge bytes to a byte of N cannot leave the token (edge bytes end only where it ends), so
  // the token holds a byte of N.
  const mustContain = body.flatMap((part) => (part.ahead && within(part.ahead.walk, edge) && within(part.ahead.need, edge) ? [part.ahead.need] : []));
  return { kind: 'token', edge, chars, minLength, maxLength, mustContain };
}

function alternate(alternatives: Info[]): Info {
  if (alternatives.length === 1) return alternatives[0]!;
  let exact: Set<string> | undefined = new Set();
  let factors: Set<string> | undefined = new Set();
  for (const alternative of alternatives) {
    if (exact && alternative.exact && exact.size + alternative.exact.size <= maxExactStrings) for (const s of alternative.exact) exact.add(s);
    else exact = undefined;
    const own = bestFactors(alternative);
    if (factors && own) for (const s of own) factors.add(s);
    else factors = undefined;
  }
  const minLength = Math.min(...alternatives.map((a) => a.minLength));
  const maxLength = Math.max(...alternatives.map((a) => a.maxLength));
  const chars = alternatives.reduce<Uint8Array | undefined>((acc, a) => union(acc, a.chars), new Uint8Array(256));
  return { ...(exact ? { exact } : {}), ...(factors && factors.size > 0 ? { factors } : {}), minLength, maxLength, ...(chars ? { chars } : {}) };
}

function repeat(info: Info, min: number, max: number): Info {
  const minLength = info.minLength * min;
  const maxLength = max === 0 || info.maxLength === 0 ? 0 : info.maxLength * max;
  const chars = max === 0 ? new Uint8Array(256) : info.chars;
  let exact: Set<string> | undefined;
  if (info.exact) {
    if (min === 0 && max === 1) exact = new Set(['', ...info.exact]);
    else if (min === max && min <= 4) {
      exact = new Set(['']);
      for (let i = 0; i < min && exact; i++) exact = product(exact, info.exact);
    }
  }
  const factors = min >= 1 ? bestFactors(info) : undefined;
  const star = min === 0 && max === Infinity && info.minLength === 1 && info.maxLength === 1 ? info.chars : undefined;
  return { ...(exact ? { exact } : {}), ...(factors ? { factors } : {}), minLength, maxLength, ...(chars ? { chars } : {}), ...(star ? { star } : {}) };
}

/** A recursive-descent reader of the JavaScript pattern grammar (no `u` or `v` flag), giving up on anything odd. */
class PatternReader {
  #pos = 0;
  constructor(
    private readonly source: string,
    private readonly caseless: boolean,
  ) {}

  read(): Info[] {
    const alternatives = this.#alternatives();
    if (this.#pos !== this.source.length) throw new Unsupported(`unexpected ${this.source[this.#pos]}`);
    return alternatives;
  }

  #peek(offset = 0): string | undefined {
    return this.source[this.#pos + offset];
  }

  #alternatives(): Info[] {
    const alternatives = [this.#sequence()];
    while (this.#peek() === '|') {
      this.#pos++;
      alternatives.push(this.#sequence());
    }
    return alternatives;
  }

  #sequence(): Info {
    const parts: Info[] = [];
    for (let c = this.#peek(); c !== undefined && c !== '|' && c !== ')'; c = this.#peek()) {
      const { info, quantifiable } = this.#term();
      const quantifier = this.#quantifier();
      if (quantifier) {
        if (!quantifiable) throw new Unsupported('quantified assertion');
        parts.push(repeat(info, quantifier.min, quantifier.max));
      } else parts.push(info);
    }
    return concat(parts);
  }

  #quantifier(): { min: number; max: number } | undefined {
    const c = this.#peek();
    let q: { min: number; max: number } | undefined;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.#pos));
      if (!match) throw new Unsupported('literal {');
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
      if (max < min) throw new Unsupported('bad quantifier');
      this.#pos += match[0].length - 1;
      q = { min, max };
    }
    if (!q) return undefined;
    this.#pos++;
    if (this.#peek() === '?') this.#pos++; // lazy: the same strings match
    if ('*+?{'.includes(this.#peek() ?? 'x')) throw new Unsupported('nested quantifier');
    return q;
  }

  #term(): { info: Info; quantifiable: boolean } {
    const c = this.#peek()!;
    if (c === '^' || c === '$') {
      this.#pos++;
      return { info: emptyInfo(), quantifiable: false };
    }
    if (c === '(') return this.#group();
    if (c === '[') {
      const { set, exact } = this.#class();
      return { info: charInfo(set, this.caseless, exact), quantifiable: true };
    }
    if (c === '.') {
      this.#pos++;
      return { info: charInfo(anyByte, false), quantifiable: true };
    }
    if (c === '\\') return this.#escape();
    if ('*+?{}]'.includes(c)) throw new Unsupported(`bare ${c}`);
    this.#pos++;
    return { info: this.#literal(c.charCodeAt(0)), quantifiable: true };
  }

  #literal(code: number): Info {
    if (code > 0xff) return { minLength: 1, maxLength: 1, chars: new Uint8Array(256) }; // never in latin1 text
    const set = new Uint8Array(256);
    set[code] = 1;
    return charInfo(set, this.caseless);
  }

  #group(): { info: Info; quantifiable: boolean } {
    const rest = this.source.slice(this.#pos);
    const opener = /^\((\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>))?/.exec(rest)!;
    if (rest.startsWith('(?') && !opener[1]) throw new Unsupported('group modifier');
    this.#pos += opener[0].length;
    const alternatives = this.#alternatives();
    if (this.#peek() !== ')') throw new Unsupported('unclosed group');
    this.#pos++;
    const kind = opener[1] ?? '';
    // Lookarounds consume nothing; ignoring what they require only widens the requirement. A negative one of a
    // single class is kept as an edge: it may fence a token (see tokenOf).
    if (kind === '?=') {
      const seek = alternatives.length === 1 ? alternatives[0]!.seek : undefined;
      return { info: { ...emptyInfo(), ...(seek ? { ahead: seek } : {}) }, quantifiable: false };
    }
    if (kind === '?<=') return { info: emptyInfo(), quantifiable: false };
    if (kind === '?!' || kind === '?<!') {
      const only = alternatives.length === 1 ? alternatives[0]! : undefined;
      const refused = only && only.minLength === 1 && only.maxLength === 1 ? only.matched : undefined;
      return { info: { ...emptyInfo(), ...(refused ? { edge: { side: kind === '?!' ? 'ahead' : 'behind', refused } } : {}) }, quantifiable: false };
    }
    return { info: alternate(alternatives), quantifiable: true };
  }

  #escape(): { info: Info; quantifiable: boolean } {
    const next = this.#peek(1);
    if (next === undefined) throw new Unsupported('trailing \\');
    if (next === 'b' || next === 'B') {
      this.#pos += 2;
      return { info: emptyInfo(), quantifiable: false };
    }
    if (/[1-9]/.test(next) || next === 'k') {
      throw new Unsupported('backreference');
    }
    const set = this.#classEscape();
    if (set) return { info: charInfo(set, this.caseless), quantifiable: true };
    return { info: this.#literal(this.#characterEscape()), quantifiable: true };
  }

  /** \d \D \w \W \s \S at the reader's position, consumed; undefined (nothing consumed) for other escapes. */
  #classEscape(): Uint8Array | undefined {
    const sets: Record<string, Uint8Array> = { d: digits, D: complement(digits), w: word, W: complement(word), s: space, S: complement(space) };
    const set = sets[this.#peek(1)!];
    if (set) this.#pos += 2;
    return set;
  }

  /** A character escape at the reader's position (after a backslash), consumed; its code unit. */
  #characterEscape(): number {
    const next = this.#peek(1)!;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12 };
    if (next in simple) {
      this.#pos += 2;
      return simple[next]!;
    }
    if (next === '0' && !/[0-9]/.test(this.#peek(2) ?? '')) {
      this.#pos += 2;
      return 0;
    }
    const hex = next === 'x' ? /^\\x([0-9A-Fa-f]{2})/.exec(this.source.slice(this.#pos)) : next === 'u' ? /^\\u([0-9A-Fa-f]{4})/.exec(this.source.slice(this.#pos)) : null;
    if (hex) {
      this.#pos += hex[0].length;
      return parseInt(hex[1]!, 16);
    }
    if ('^$\\.*+?()[]{}|/-'.includes(next)) {
      this.#pos += 2;
      return next.charCodeAt(0);
    }
    throw new Unsupported(`escape \\${next}`);
  }

  /** A class and whether `set` is exactly what it matches before case folding (not so for `[^…]` under `i`). */
  #class(): { set: Uint8Array; exact: boolean } {
    this.#pos++; // [
    const negated = this.#peek() === '^';
    if (negated) this.#pos++;
    const set = new Uint8Array(256);
    let first = true;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) throw new Unsupported('unclosed class');
      if (c === ']' && !first) break;
      if (c === ']' || c === '[') throw new Unsupported('odd class');
      first = false;
      const from = this.#classAtom();
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== undefined) {
        this.#pos++;
        const to = this.#classAtom();
        if (typeof from !== 'number' || typeof to !== 'number' || to < from) throw new Unsupported('odd range');
        for (let code = from; code <= Math.min(to, 255); code++) set[code] = 1;
      } else if (typeof from === 'number') {
        if (from <= 0xff) set[from] = 1;
      } else for (let code = 0; code < 256; code++) set[code] = set[code]! | from[code]!;
    }
    this.#pos++; // ]
    if (!negated) return { set, exact: true };
    // A negated class under `i` excludes both cases of what it lists; every byte is a safe superset.
    return this.caseless ? { set: anyByte.slice(), exact: false } : { set: complement(set), exact: true };
  }

  /** One class member: a code unit, or a set for \d \w \s and their negations. */
  #classAtom(): number | Uint8Array {
    const c = this.#peek()!;
    if (c !== '\\') {
      this.#pos++;
      return c.charCodeAt(0);
    }
    if (this.#peek(1) === 'b') {
      this.#pos += 2;
      return 8; // backspace inside a class
    }
    return this.#classEscape() ?? this.#characterEscape();
  }
}

/** The requirement one alternative of a pattern imposes, if one is usable. */
function requirementOf(info: Info): MatchRequirement | undefined {
  const factors = bestFactors(info);
  const factorScore = score(factors);
  if (factors && factorScore >= goodFactorLength) return { kind: 'factors', factors: minimalFactors(factors) };
  if (info.token) return info.token;
  const chars = info.chars;
  if (chars && info.minLength >= minRunLength && chars.reduce((sum, flag) => sum + flag, 0) <= maxRunClassSize) {
    return { kind: 'run', chars, minLength: info.minLength };
  }
  if (factors && factorScore >= minFactorLength) return { kind: 'factors', factors: minimalFactors(factors) };
  return undefined;
}

/** Drops factors that contain another factor: where the longer one occurs, the shorter does too. */
function minimalFactors(factors: Set<string>): string[] {
  const sorted = [...factors].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const factor of sorted) if (!kept.some((k) => factor.includes(k))) kept.push(factor);
  return kept;
}

/**
 * Requirements of a pattern, one per top-level alternative (any match satisfies at least one); undefined when an
 * alternative has none usable or the pattern uses a construct the reader does not handle.
 */
export function patternRequirements(source: string, caseless: boolean): MatchRequirement[] | undefined {
  try {
    const alternatives = new PatternReader(source, caseless).read();
    const requirements: MatchRequirement[] = [];
    for (const alternative of alternatives) {
      const requirement = requirementOf(alternative);
      if (!requirement) return undefined;
      requirements.push(requirement);
    }
    return requirements;
  } catch (error) {
    // Unsupported syntax, or nesting deep enough to exhaust the stack: no requirement, the expression always runs.
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Whether `bytes` holds `minLength` consecutive bytes of the class. Probes every minLength-th byte: a byte outside
 * the class rules out every window that covers it, so binaries are crossed in strides. */
export function hasRun(bytes: Uint8Array, chars: Uint8Array, minLength: number): boolean {
  const n = bytes.length;
  let probe = minLength - 1;
  while (probe < n) {
    if (!chars[bytes[probe]!]) {
      probe += minLength;
      continue;
    }
    // Walk back from the probe to the start of a possible window.
    let start = probe;
    const floor = probe - minLength + 1;
    while (start > floor && chars[bytes[start - 1]!]) start--;
    if (start === floor) return true;
    // The window must start at `start` or later; extend forward from the probe.
    let end = probe;
    const target = start + minLength - 1;
    while (end < target && end + 1 < n && chars[bytes[end + 1]!]) end++;
    if (end === target) return true;
    probe = end + 1 + minLength;
  }
  return false;
}

/** A group of tokens with one edge, compiled to a byte table: a bit per token for its class and for each class it
 * must contain. */
interface TokenTable {
  table: Uint32Array;
  stride: number;
  checks: { token: TokenRequirement; charsBit: number; mustBits: number }[];
}

const tokenTables = new WeakMap<readonly TokenRequirement[], TokenTable | undefined>();

function tokenTable(tokens: readonly TokenRequirement[]): TokenTable | undefined {
  if (tokenTables.has(tokens)) return tokenTables.get(tokens);
  const table = new Uint32Array(256);
  const checks: TokenTable['checks'] = [];
  let bit = 0;
  const claim = (set: Uint8Array): number | undefined => {
    if (bit >= 31) return undefined;
    const mask = 1 << bit++;
    for (let c = 0; c < 256; c++) if (set[c]) table[c]! |= mask;
    return mask;
  };
  let compiled: TokenTable | undefined;
  for (const token of tokens) {
    const charsBit = claim(token.chars);
    let mustBits = 0;
    for (const set of token.mustContain) mustBits |= claim(set) ?? 0;
    if (charsBit === undefined) break;
    checks.push({ token, charsBit, mustBits });
  }
  if (checks.length === tokens.length) compiled = { table, stride: Math.min(...tokens.map((token) => token.minLength)), checks };
  tokenTables.set(tokens, compiled);
  return compiled;
}

/**
 * Which of `tokens` (all with the same edge) `bytes` holds, in one pass. Probes every k-th byte (k the shortest
 * token): a byte outside the edge cannot lie inside a token, and a probe that lands in a run settles that run.
 * A group too large for one table answers "all present", which only costs expression runs.
 */
export function findTokens(bytes: Uint8Array, tokens: readonly TokenRequirement[]): Set<TokenRequirement> {
  const found = new Set<TokenRequirement>();
  if (tokens.length === 0) return found;
  const compiled = tokenTable(tokens);
  if (!compiled) return new Set(tokens);
  const { table, stride, checks } = compiled;
  // A run's extent is found with the edge class alone; its bytes' classes are read only when it is long enough.
  const edge = tokens[0]!.edge;
  const n = bytes.length;
  let probe = stride - 1;
  while (probe < n && found.size < checks.length) {
    if (edge[bytes[probe]!] === 0) {
      probe += stride;
      continue;
    }
    // The whole run around the probe; most are words or code bytes shorter than any token, passed over unread.
    let start = probe;
    while (start > 0 && edge[bytes[start - 1]!] !== 0) start--;
    let end = probe + 1;
    while (end < n && edge[bytes[end]!] !== 0) end++;
    const length = end - start;
    if (length >= stride) {
      // What all its bytes share (all) and what any of them has (any).
      let all = -1;
      let any = 0;
      for (let at = start; at < end; at++) {
        const bits = table[bytes[at]!]!;
        all &= bits;
        any |= bits;
      }
      for (const { token, charsBit, mustBits } of checks) {
        if (length >= token.minLength && length <= token.maxLength && (all & charsBit) !== 0 && (any & mustBits) === mustBits) found.add(token);
      }
    }
    probe = end + stride;
  }
  return found;
}
