/**
 * YARA engine adapter: compiles rule files with YARA-X (the official WASM build) and scans bytes with one reused
 * Scanner. The WASM module is instantiated once per process from the .wasm beside the package (no fetch in Node).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Compiler, initSync, type Rules, type Scanner } from '@virustotal/yara-x';
import { NomineError } from '../core/errors.ts';

const require = createRequire(import.meta.url);

/** Engine identity, part of the signatures version: a new engine may match differently. */
export const yaraEngineVersion = `yara-x ${(require('@virustotal/yara-x/package.json') as { version: string }).version}`;

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
  readonly #scanner: Scanner | undefined;

  constructor(rules: Rules | undefined, ruleCount: number) {
    this.ruleCount = ruleCount;
    if (rules) {
      this.#scanner = rules.scanner();
      this.#scanner.setTimeoutMs(yaraScanTimeoutMs);
      this.#scanner.setMaxMatchesPerPattern(maxMatchesPerPattern);
    }
  }

  /** Matches of all rules on `bytes`; throws NomineError('timeout') when the scan exceeds its budget. */
  scan(bytes: Uint8Array): YaraMatch[] {
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
export function compileYara(files: readonly YaraSourceFile[]): YaraRuleSet {
  if (files.length === 0) return new YaraRuleSet(undefined, 0);
  ensureEngine();
  const compiler = new Compiler();
  try {
    let ruleCount = 0;
    for (const file of files) {
      compiler.newNamespace(file.id);
      try {
        compiler.addSource(file.text);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const line = lineOf(message);
        const headline = message.split('\n')[0] ?? message;
        throw new NomineError('invalid-input', `invalid YARA rule: ${headline}\n${message}`, line ? `${file.path}:${line}` : file.path, {
          cause: error,
        });
      }
      ruleCount += countRules(file.text);
    }
    return new YaraRuleSet(compiler.build(), ruleCount);
  } finally {
    compiler.free();
  }
}
