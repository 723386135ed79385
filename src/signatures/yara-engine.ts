/**
 * YARA engine adapter: compiles rule files with YARA-X. The official WASM build validates every file (its diagnostics
 * name the line) and scans where nothing faster loads; the native YARA-X binding (@litko/yara-x-linux-x64-gnu, the prebuilt N-API
 * module of the same engine) scans when it loads. Measured here: the WASM scanner costs ~8 ms per call whatever
 * the input (1,000 scans of 1 KB: 8.5 s), the native one 0.17 ms, so on images of many small programs the WASM
 * engine alone was most of the scan time. The binding's 0.7 builds carry YARA-X 1.20, whose scan of the benchmark's
 * binaries runs ~4.8x faster than the 1.7 in its 0.3 builds (963 against 203 MB/s, same rules, same matches).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Compiler, initSync, type Rules, type Scanner } from '@virustotal/yara-x';
import { NomineError } from '../core/errors.ts';

const require = createRequire(import.meta.url);

interface NativeMatch {
  ruleIdentifier: string;
  namespace: string;
  meta: Record<string, YaraMetaValue>;
  tags: string[];
  matches: { offset: number; length: number; identifier: string }[];
}
interface NativeRules {
  setMaxMatchesPerPattern(count: number): void;
  scan(data: Buffer): NativeMatch[];
}
interface NativeEngine {
  compile(source: string): NativeRules;
  validate(source: string): { errors: { code: string; message: string; line?: number }[] };
}

let nativeLoaded: { engine: NativeEngine | undefined } | undefined;

/**
 * The native binding, or undefined where its prebuilt module does not load (another platform or libc). Loaded on
 * first use, not at import: every command imports this module, and the 21 MB library is only needed to scan.
 */
function nativeEngine(): NativeEngine | undefined {
  if (!nativeLoaded) {
    let engine: NativeEngine | undefined;
    if (process.env.NOMINE_YARA_ENGINE !== 'wasm') {
      try {
        engine = require('@litko/yara-x-linux-x64-gnu') as NativeEngine;
      } catch {
        engine = undefined;
      }
    }
    nativeLoaded = { engine };
  }
  return nativeLoaded.engine;
}

/** Engine identity, part of the signatures version: a new engine may match differently. */
export function yaraEngineVersion(): string {
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  return `yara-x ${version('@virustotal/yara-x')}${nativeEngine() ? ` native ${version('@litko/yara-x-linux-x64-gnu')}` : ''}`;
}

/** A hostile file crafted to make regular expressions crawl must not stall a scan. */
export const yaraScanTimeoutMs = 20_000;
/** Offsets kept per pattern: the evidence needs a few, a file full of one string must not fill memory. */
const maxMatchesPerPattern = 16;

let initialised = false;
function ensureEngine(): void {
  if (initialised) return;
  const entry = require.resolve('@virustotal/yara-x');
  initSync({ module: readFileSync(join(dirname(entry), 'yara_x_js_bg.wasm')) });
  initialised = true;
}

export type YaraMetaValue = string | number | boolean;

export interface YaraMatch {
  rule: string;
  /** The rule file's id (its path below the signatures directory), so equal rule names in two files stay apart. */
  namespace: string;
  tags: string[];
  meta: Record<string, YaraMetaValue>;
  /** Pattern identifiers that matched, with the first offsets of each. */
  patterns: { identifier: string; offsets: number[]; length: number }[];
}

export interface YaraSourceFile {
  /** Namespace and name in errors: the file's id below its signatures directory. */
  id: string;
  /** Path shown in errors. */
  path: string;
  text: string;
}

/** Rules nomine generates (the keyword prefilter): matched in the same pass, reported apart from the files' rules. */
export interface GeneratedRules {
  source: string;
  /** Every rule name the source declares. */
  names: readonly string[];
}

/** One scan's outcome: the rule files' matches, and which generated rules matched (undefined: none were compiled). */
export interface YaraScan {
  matches: YaraMatch[];
  generated?: ReadonlySet<string>;
}

interface RawMatch {
  identifier: string;
  namespace: string;
  tags: string[];
  metadata: { identifier: string; value: YaraMetaValue }[];
  patterns: { identifier: string; matches: { offset: number; length: number }[] }[];
}
interface RawResult {
  matches?: RawMatch[];
}

/** Namespace of the generated rules in the WASM engine; file ids end in .yar or .yara, so none collides. */
const generatedNamespace = 'nomine:generated';

/**
 * A native rule set and how its matches map to files: `namespace` for a set of one file, `fileOf` (rule name → file
 * id) for several files compiled together, and which of its rules are generated.
 */
interface NativeSet {
  rules: NativeRules;
  namespace?: string;
  fileOf?: ReadonlyMap<string, string>;
  generated: ReadonlySet<string>;
}

export class YaraRuleSet {
  readonly ruleCount: number;
  /** Which engine scans: `native` when the binding loaded and validated every file (it compiles on first scan). */
  readonly engine: 'native' | 'wasm';
  readonly #scanner: Scanner | undefined;
  readonly #generatedInWasm: boolean;
  readonly #nativePlan: NativePlan | undefined;
  #native: NativeSet[] | undefined;
  /** One set per file, built only when a rule of a combined set cannot be placed in its file. */
  #perFile: NativeSet[] | undefined;

  constructor(rules: Rules | undefined, ruleCount: number, native?: NativePlan, generatedInWasm = false) {
    this.ruleCount = ruleCount;
    this.engine = native ? 'native' : 'wasm';
    this.#nativePlan = native;
    this.#generatedInWasm = generatedInWasm;
    if (!native && rules) {
      this.#scanner = rules.scanner();
      this.#scanner.setTimeoutMs(yaraScanTimeoutMs);
      this.#scanner.setMaxMatchesPerPattern(maxMatchesPerPattern);
    }
  }

  /** Matches of all rules on `bytes`; throws NomineError('timeout') when the scan exceeds its budget. */
  scan(bytes: Uint8Array): YaraMatch[] {
    return this.scanAll(bytes).matches;
  }

  /** The rule files' matches and the generated rules' in one pass over `bytes`. */
  scanAll(bytes: Uint8Array): YaraScan {
    if (this.#nativePlan) return this.#scanNative(bytes);
    if (!this.#scanner) return { matches: [] };
    let result: RawResult;
    try {
      result = this.#scanner.scan(bytes) as RawResult;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/timeout|timed out/i.test(message)) throw new NomineError('timeout', `YARA scan exceeded ${yaraScanTimeoutMs} ms`, undefined, { cause: error });
      throw new NomineError('internal', `YARA scan failed: ${message}`, undefined, { cause: error });
    }
    const generated = new Set<string>();
    const matches: YaraMatch[] = [];
    for (const m of result.matches ?? []) {
      if (m.namespace === generatedNamespace) {
        generated.add(m.identifier);
        continue;
      }
      matches.push({
        rule: m.identifier,
        namespace: m.namespace,
        tags: m.tags,
        meta: Object.fromEntries(m.metadata.map((entry) => [entry.identifier, entry.value])),
        patterns: m.patterns
          .filter((p) => p.matches.length > 0)
          .map((p) => ({ identifier: p.identifier, offsets: p.matches.map((x) => x.offset), length: p.matches[0]?.length ?? 0 })),
      });
    }
    return { matches, ...(this.#generatedInWasm ? { generated } : {}) };
  }

  #scanNative(bytes: Uint8Array): YaraScan {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#native ??= buildNative(this.#nativePlan!);
    const generated = new Set<string>();
    const matches: YaraMatch[] = [];
    let misplaced = false;
    for (const set of this.#native) {
      for (const match of scanSet(set, buffer)) {
        if (set.generated.has(match.ruleIdentifier) && !set.fileOf?.has(match.ruleIdentifier)) {
          generated.add(match.ruleIdentifier);
          continue;
        }
        const namespace = set.namespace ?? set.fileOf?.get(match.ruleIdentifier);
        if (namespace === undefined) misplaced = true;
        else matches.push(toMatch(match, namespace));
      }
    }
    const withGenerated = this.#nativePlan!.generated !== undefined;
    if (!misplaced) {
      // Files compiled together or apart: report in load order, as one set per file did.
      const order = new Map(this.#nativePlan!.files.map((file, index) => [file.id, index]));
      matches.sort((a, b) => order.get(a.namespace)! - order.get(b.namespace)!);
      return { matches, ...(withGenerated ? { generated } : {}) };
    }
    // A rule the name reader missed: the files' own sets tell where each match belongs.
    this.#perFile ??= this.#nativePlan!.files.map((file) => ({ rules: compileNativeSet(file.text), namespace: file.id, generated: new Set<string>() }));
    const exact = this.#perFile.flatMap((set) => scanSet(set, buffer).map((match) => toMatch(match, set.namespace!)));
    return { matches: exact, ...(withGenerated ? { generated } : {}) };
  }
}

function scanSet(set: NativeSet, buffer: Buffer): NativeMatch[] {
  try {
    return set.rules.scan(buffer);
  } catch (error) {
    throw new NomineError('internal', `YARA scan failed: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
  }
}

function toMatch(match: NativeMatch, namespace: string): YaraMatch {
  const patterns = new Map<string, { identifier: string; offsets: number[]; length: number }>();
  for (const hit of match.matches) {
    const pattern = patterns.get(hit.identifier) ?? { identifier: hit.identifier, offsets: [], length: hit.length };
    pattern.offsets.push(hit.offset);
    patterns.set(hit.identifier, pattern);
  }
  return { rule: match.ruleIdentifier, namespace, tags: match.tags, meta: match.meta, patterns: [...patterns.values()] };
}

/** `--> line:5:1` in a YARA-X diagnostic: the line the error is on. */
function lineOf(message: string): number | undefined {
  const match = /-->\s*line:(\d+)(?::\d+)?/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Counts rule declarations, for `ruleCount`; comments and strings may inflate it, it is informational only. */
function countRules(text: string): number {
  return text.match(/^\s*(?:(?:private|global)\s+)*rule\s+\w+/gm)?.length ?? 0;
}

/**
 * Compiles every file into its own namespace, plus the generated rules. The first file with an error aborts the load
 * with a NomineError that names the file and line; YARA-X refuses to build a rule set once any source failed, so
 * there is no partial set. Generated rules that do not compile are left out (their users then go without them).
 */
export function compileYara(files: readonly YaraSourceFile[], engine: 'native' | 'wasm' = nativeEngine() ? 'native' : 'wasm', generated?: GeneratedRules): YaraRuleSet {
  const extra = generated && generated.source.trim() !== '' ? generated : undefined;
  if (files.length === 0 && !extra) return new YaraRuleSet(undefined, 0);
  const ruleCount = files.reduce((sum, file) => sum + countRules(file.text), 0);
  // The native engine validates and compiles by itself, so the WASM module (~100 MB resident) is never loaded.
  const plan = engine === 'native' ? planNative(files, extra) : undefined;
  if (plan) return new YaraRuleSet(undefined, ruleCount, plan);
  ensureEngine();
  const build = (withGenerated: boolean): Rules => {
    const compiler = new Compiler();
    try {
      for (const file of files) {
        compiler.newNamespace(file.id);
        try {
          compiler.addSource(file.text);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw invalidRule(file, message, lineOf(message), error);
        }
      }
      if (withGenerated && extra) {
        compiler.newNamespace(generatedNamespace);
        compiler.addSource(extra.source);
      }
      return compiler.build();
    } finally {
      compiler.free();
    }
  };
  if (extra) {
    try {
      return new YaraRuleSet(build(true), ruleCount, undefined, true);
    } catch (error) {
      if (error instanceof NomineError) throw error;
    }
  }
  return new YaraRuleSet(build(false), ruleCount);
}

function invalidRule(file: YaraSourceFile, message: string, line: number | undefined, cause?: unknown): NomineError {
  const headline = message.split('\n')[0] ?? message;
  return new NomineError('invalid-input', `invalid YARA rule: ${headline}\n${message}`, line ? `${file.path}:${line}` : file.path, { cause });
}

/** What the native engine compiles on first scan: validated files, and the generated rules if they validate. */
interface NativePlan {
  files: readonly YaraSourceFile[];
  generated?: GeneratedRules;
}

/**
 * Validates each file with the native engine (an invalid file throws naming its line); compiling waits for the first
 * scan, so a process that only loads signatures (the scanner's main thread, whose workers match) never builds them.
 * Undefined when the binding is missing, so the WASM engine takes over.
 */
function planNative(files: readonly YaraSourceFile[], generated: GeneratedRules | undefined): NativePlan | undefined {
  const native = nativeEngine();
  if (!native) return undefined;
  for (const file of files) {
    const [error] = native.validate(file.text).errors;
    if (error) throw invalidRule(file, error.message, error.line ?? lineOf(error.message));
  }
  const generatedOk = generated !== undefined && native.validate(generated.source).errors.length === 0;
  return { files, ...(generatedOk ? { generated } : {}) };
}

function compileNativeSet(source: string): NativeRules {
  const rules = nativeEngine()!.compile(source);
  rules.setMaxMatchesPerPattern(maxMatchesPerPattern);
  return rules;
}

/**
 * The binding (0.3) has no namespaces, so files whose rules cannot interact are compiled together, with the generated
 * rules, into one set scanned in one pass: no `global` rule (it would gate the others' rules), no rule-name wildcard
 * in a condition (`any of (miner_*)` would take in the others' rules), no rule name used twice. The rest get a set
 * each.
 */
function buildNative(plan: NativePlan): NativeSet[] {
  const generatedNames = new Set(plan.generated?.names ?? []);
  const fileOf = new Map<string, string>();
  const together: YaraSourceFile[] = [];
  const apart: YaraSourceFile[] = [];
  for (const file of plan.files) {
    const names = ruleNames(file.text);
    const clash = names.some((name) => fileOf.has(name) || generatedNames.has(name)) || new Set(names).size !== names.length;
    if (clash || /\bglobal\b/.test(file.text) || ruleNameWildcard.test(file.text)) {
      apart.push(file);
      continue;
    }
    together.push(file);
    for (const name of names) fileOf.set(name, file.id);
  }
  const sets: NativeSet[] = [];
  const combined = [...together.map((file) => file.text), plan.generated?.source ?? ''].join('\n');
  let merged: NativeSet | undefined;
  if (combined.trim() !== '') {
    try {
      merged = { rules: compileNativeSet(combined), fileOf, generated: generatedNames };
    } catch {
      merged = undefined;
    }
  }
  if (merged) sets.push(merged);
  else {
    apart.unshift(...together);
    if (plan.generated) {
      try {
        sets.push({ rules: compileNativeSet(plan.generated.source), generated: generatedNames, fileOf: new Map() });
      } catch {
        // left out: keyword lists then run without their prefilter
      }
    }
  }
  for (const file of apart) sets.push({ rules: compileNativeSet(file.text), namespace: file.id, generated: new Set() });
  return sets;
}

/** `any of (miner_*)`: an identifier (not a `$pattern`) followed by `*`; comments may cause false alarms, which only
 * keep a file apart. */
const ruleNameWildcard = /(?:^|[^$\w])[A-Za-z_]\w*\*/;

/** Declared rule names, comments removed. A name this misses is caught when it matches (see #scanNative). */
function ruleNames(text: string): string[] {
  const bare = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
  return [...bare.matchAll(/^\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_]\w*)/gm)].map((match) => match[1]!);
}

/**
 * Generated rules scanned on their own (the keyword prefilter, over lower-cased bytes): compiled on first use with the
 * native engine; undefined without it, as the WASM engine's cost per scan (~8 ms) would exceed what the prefilter
 * saves on small files. The scan answers which rules matched, by name.
 */
export function compileGeneratedRules(source: string): { names(bytes: Buffer): string[] } | undefined {
  const native = nativeEngine();
  if (!native || source.trim() === '' || native.validate(source).errors.length > 0) return undefined;
  let rules: NativeRules | undefined;
  return {
    names(bytes) {
      rules ??= compileNativeSet(source);
      const set: NativeSet = { rules, generated: new Set(), fileOf: new Map() };
      return scanSet(set, bytes).map((match) => match.ruleIdentifier);
    },
  };
}
