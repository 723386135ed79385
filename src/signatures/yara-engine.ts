/**
 * YARA engine adapter: compiles rule files with YARA-X. The official WASM build validates every file (its diagnostics
 * name the line) and scans where nothing faster loads; the native YARA-X binding (@litko/yara-x-linux-x64-gnu, the prebuilt N-API
 * module of the same engine) scans when it loads. Measured here: the WASM scanner costs ~8 ms per call whatever
 * the input (1,000 scans of 1 KB: 8.5 s), the native one 0.17 ms, so on images of many small programs the WASM
 * engine alone was most of the scan time.
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
  return `yara-x ${(require('@virustotal/yara-x/package.json') as { version: string }).version}${nativeEngine() ? ' native' : ''}`;
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

export class YaraRuleSet {
  readonly ruleCount: number;
  /** Which engine scans: `native` when the binding loaded and compiled every file, else `wasm`. */
  readonly engine: 'native' | 'wasm';
  readonly #scanner: Scanner | undefined;
  /** One native rule set per file, named by the file's id, so equal rule names in two files stay apart. */
  readonly #native: { namespace: string; rules: NativeRules }[] | undefined;

  constructor(rules: Rules | undefined, ruleCount: number, nativeRules?: { namespace: string; rules: NativeRules }[]) {
    this.ruleCount = ruleCount;
    this.engine = nativeRules ? 'native' : 'wasm';
    if (nativeRules) {
      this.#native = nativeRules;
      for (const { rules: set } of nativeRules) set.setMaxMatchesPerPattern(maxMatchesPerPattern);
    } else if (rules) {
      this.#scanner = rules.scanner();
      this.#scanner.setTimeoutMs(yaraScanTimeoutMs);
      this.#scanner.setMaxMatchesPerPattern(maxMatchesPerPattern);
    }
  }

  /** Matches of all rules on `bytes`; throws NomineError('timeout') when the scan exceeds its budget. */
  scan(bytes: Uint8Array): YaraMatch[] {
    if (this.#native) return this.#scanNative(bytes);
    if (!this.#scanner) return [];
    let result: RawResult;
    try {
      result = this.#scanner.scan(bytes) as RawResult;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/timeout|timed out/i.test(message)) throw new NomineError('timeout', `YARA scan exceeded ${yaraScanTimeoutMs} ms`, undefined, { cause: error });
      throw new NomineError('internal', `YARA scan failed: ${message}`, undefined, { cause: error });
    }
    return (result.matches ?? []).map((m) => ({
      rule: m.identifier,
      namespace: m.namespace,
      tags: m.tags,
      meta: Object.fromEntries(m.metadata.map((entry) => [entry.identifier, entry.value])),
      patterns: m.patterns
        .filter((p) => p.matches.length > 0)
        .map((p) => ({ identifier: p.identifier, offsets: p.matches.map((x) => x.offset), length: p.matches[0]?.length ?? 0 })),
    }));
  }

  #scanNative(bytes: Uint8Array): YaraMatch[] {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const found: YaraMatch[] = [];
    for (const { namespace, rules } of this.#native!) {
      let matches: NativeMatch[];
      try {
        matches = rules.scan(buffer);
      } catch (error) {
        throw new NomineError('internal', `YARA scan failed: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
      }
      for (const match of matches) {
        const patterns = new Map<string, { identifier: string; offsets: number[]; length: number }>();
        for (const hit of match.matches) {
          const pattern = patterns.get(hit.identifier) ?? { identifier: hit.identifier, offsets: [], length: hit.length };
          pattern.offsets.push(hit.offset);
          patterns.set(hit.identifier, pattern);
        }
        found.push({ rule: match.ruleIdentifier, namespace, tags: match.tags, meta: match.meta, patterns: [...patterns.values()] });
      }
    }
    return found;
  }
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
 * Compiles every file into its own namespace. The first file with an error aborts the load with a NomineError that
 * names the file and line; YARA-X refuses to build a rule set once any source failed, so there is no partial set.
 */
export function compileYara(files: readonly YaraSourceFile[], engine: 'native' | 'wasm' = nativeEngine() ? 'native' : 'wasm'): YaraRuleSet {
  if (files.length === 0) return new YaraRuleSet(undefined, 0);
  const ruleCount = files.reduce((sum, file) => sum + countRules(file.text), 0);
  // The native engine validates and compiles by itself, so the WASM module (~100 MB resident) is never loaded.
  const nativeRules = engine === 'native' ? compileNative(files) : undefined;
  if (nativeRules) return new YaraRuleSet(undefined, ruleCount, nativeRules);
  ensureEngine();
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
    return new YaraRuleSet(compiler.build(), ruleCount);
  } finally {
    compiler.free();
  }
}

function invalidRule(file: YaraSourceFile, message: string, line: number | undefined, cause?: unknown): NomineError {
  const headline = message.split('\n')[0] ?? message;
  return new NomineError('invalid-input', `invalid YARA rule: ${headline}\n${message}`, line ? `${file.path}:${line}` : file.path, { cause });
}

/**
 * Validates and compiles each file with the native engine; an invalid file throws naming its line. Undefined when the
 * binding is missing or fails in a way that is not about the rules, so the WASM engine takes over.
 */
function compileNative(files: readonly YaraSourceFile[]): { namespace: string; rules: NativeRules }[] | undefined {
  const native = nativeEngine();
  if (!native) return undefined;
  const compiled: { namespace: string; rules: NativeRules }[] = [];
  for (const file of files) {
    const [error] = native.validate(file.text).errors;
    if (error) throw invalidRule(file, error.message, error.line ?? lineOf(error.message));
    try {
      compiled.push({ namespace: file.id, rules: native.compile(file.text) });
    } catch {
      return undefined;
    }
  }
  return compiled;
}
