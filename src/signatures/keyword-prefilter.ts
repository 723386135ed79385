/**
 * Keyword prefilter: the keyword lists turned into YARA rules of literal factors (one rule per list, plus one for
 * the stratum ports), matched natively, so a list's regular expression runs only on the files where that match (or,
 * for wallet-like patterns, a token of address characters) says it could. Programs get the rules (as `nocase`
 * strings) in the pass of the YARA rule files they get anyway; other files in a pass of their own over a
 * lower-cased copy (see keyword-rules.ts), where plain strings match several times faster.
 * Verdicts do not change: a list's expression still decides, on the whole file, exactly as before; the prefilter
 * only skips expressions that provably cannot match. A list whose patterns are not understood always runs.
 */
import { literalRule } from './literal-rule.ts';
import type { KeywordList } from './signatures.ts';
import { findTokens, hasRun, patternRequirements, type MatchRequirement, type RunRequirement, type TokenRequirement } from './match-requirements.ts';

/** How one keyword list is prefiltered. */
export interface KeywordPlan {
  /** The generated YARA rule holding the list's factors, when it has any. */
  rule?: string;
  /** Runs and tokens of characters the matches not covered by the factors are. */
  runs: readonly (RunRequirement | TokenRequirement)[];
  /** No requirement is known for some alternative: the expression runs on every file. */
  always: boolean;
}

export interface KeywordPrefilter {
  /** YARA source of the generated rules; empty when no list has factors. */
  source: string;
  /**
   * The same rules one by one, with how many strings each holds (rule sets are packed by that count): `source` for
   * lower-cased bytes (plain strings), `nocaseSource` for the bytes as they are (for the rule files' pass).
   */
  rules: readonly { name: string; source: string; nocaseSource: string; strings: number }[];
  /** By keyword list id. */
  plans: ReadonlyMap<string, KeywordPlan>;
  /** The rule that matches `:PORT` for every stratum port, when there are ports. */
  portsRule?: string;
  /** The token requirements of every list, grouped by edge: each group is looked for in one pass. */
  tokenGroups: readonly (readonly TokenRequirement[])[];
  /** Length of the longest factor: windows of a long file overlap by one less. */
  longestFactor: number;
}

/** Generated rule names start with this; a user rule file declaring such a name is compiled apart from them. */
export const generatedRulePrefix = 'nomine_keyword_';

/** The plan of one list: its matcher is `literal|literal|(?:pattern)|…`, so its top-level alternatives are read. */
function planOf(list: KeywordList): { factors: string[]; runs: (RunRequirement | TokenRequirement)[]; always: boolean } {
  const caseless = list.matcher.flags.includes('i');
  const requirements: MatchRequirement[] | undefined = patternRequirements(list.matcher.source, caseless);
  if (!requirements) return { factors: [], runs: [], always: true };
  const factors = new Set<string>();
  const runs: (RunRequirement | TokenRequirement)[] = [];
  for (const requirement of requirements) {
    if (requirement.kind === 'factors') for (const factor of requirement.factors) factors.add(factor);
    else runs.push(requirement);
  }
  return { factors: [...factors], runs, always: false };
}

export function buildKeywordPrefilter(lists: readonly KeywordList[], stratumPorts: ReadonlySet<number>): KeywordPrefilter {
  const plans = new Map<string, KeywordPlan>();
  const rules: { name: string; source: string; nocaseSource: string; strings: number }[] = [];
  let longestFactor = 0;
  // Factors are matched in lower case against lower-cased bytes: exact for lists that ignore case, and a superset
  // (enough for a prefilter) for those that do not.
  const ruleOf = (name: string, factors: readonly string[]) => {
    const lowered = mergeFactors(factors.map((factor) => factor.toLowerCase()));
    for (const factor of lowered) longestFactor = Math.max(longestFactor, factor.length);
    rules.push({ name, source: literalRule(name, lowered, false), nocaseSource: literalRule(name, lowered, true), strings: lowered.length });
  };
  lists.forEach((list, index) => {
    if (!list.scopes.includes('files')) return;
    const { factors, runs, always } = planOf(list);
    const rule = factors.length > 0 && !always ? `${generatedRulePrefix}${index}` : undefined;
    if (rule) ruleOf(rule, factors);
    plans.set(list.id, { ...(rule ? { rule } : {}), runs, always });
  });
  let portsRule: string | undefined;
  if (stratumPorts.size > 0) {
    portsRule = `${generatedRulePrefix}ports`;
    ruleOf(portsRule, [...stratumPorts].map((port) => `:${port}`));
  }
  const groups = new Map<string, TokenRequirement[]>();
  for (const plan of plans.values()) {
    for (const run of plan.runs) {
      if (run.kind !== 'token') continue;
      const key = run.edge.join('');
      groups.set(key, [...(groups.get(key) ?? []), run]);
    }
  }
  return { source: rules.map((rule) => rule.source).join('\n'), rules, plans, ...(portsRule ? { portsRule } : {}), tokenGroups: [...groups.values()], longestFactor };
}

/** Prefixes at least this long stand in for the factors that share them; shorter ones down to three characters do
 * when a word ends in punctuation in them (`cn/`, `rx/`), which makes them rare in programs and prose alike. */
const minMergedPrefix = 6;
const minMergedMarkedPrefix = 3;
const minMergedFactors = 3;

/** `cn/`, `rx/`, `:333`: punctuation and two or more letters or digits, not an option's dashes (`--no` is every
 * other command-line option). */
function isMarkedPrefix(prefix: string): boolean {
  return /[^a-z0-9]/.test(prefix) && !prefix.startsWith('-') && (prefix.match(/[a-z0-9]/g)?.length ?? 0) >= 2;
}

/** Lists with at least this many factors also share out common substrings (`miner`, `pool.`) among them. */
const minFactorsToShare = 8;
const minSharedLength = 5;

/**
 * Fewer strings: three or more factors sharing a prefix of six or more characters (or a shorter marked one) are
 * replaced by it (`mining.subscribe`, `mining.notify`, `mining.submit` → `mining.`), in long lists a shared substring
 * of five or more does the same, and factors containing another are dropped. The native matcher builds a fast DFA
 * for up to 100 strings and a slower automaton past that, while a shared part that long rarely occurs where its
 * factors do not; it is a weaker requirement, never a wrong one.
 */
function mergeFactors(factors: readonly string[]): string[] {
  let current = [...new Set(factors)];
  for (let length = 16; length >= minMergedMarkedPrefix; length--) {
    const byPrefix = new Map<string, string[]>();
    for (const factor of current) {
      if (factor.length <= length) continue;
      const prefix = factor.slice(0, length);
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), factor]);
    }
    for (const [prefix, members] of byPrefix) {
      if (members.length < minMergedFactors || (length < minMergedPrefix && !isMarkedPrefix(prefix))) continue;
      current = [...current.filter((factor) => !members.includes(factor)), prefix];
    }
  }
  current = minimal(current);
  // Long lists: a substring of five or more characters in three or more factors stands in for them (`ccminer`,
  // `ethminer`, `lolminer` … → `miner`), the one covering most first.
  while (current.length >= minFactorsToShare) {
    const cover = new Map<string, number>();
    for (const factor of current) {
      const seen = new Set<string>();
      for (let length = minSharedLength; length < factor.length; length++) {
        for (let at = 0; at + length <= factor.length; at++) seen.add(factor.slice(at, at + length));
      }
      for (const part of seen) cover.set(part, (cover.get(part) ?? 0) + 1);
    }
    let best: [string, number] | undefined;
    for (const entry of cover) {
      // Five letters or digits at least: `g.com` or `-cpu-` would turn up everywhere.
      if ((entry[0].match(/[a-z0-9]/g)?.length ?? 0) < minSharedLength) continue;
      if (!best || entry[1] > best[1] || (entry[1] === best[1] && entry[0].length > best[0].length)) best = entry;
    }
    if (!best || best[1] < minMergedFactors) break;
    const shared = best[0];
    current = minimal([...current.filter((factor) => !factor.includes(shared)), shared]);
  }
  return current;
}

/** Drops factors that contain another: where the longer occurs, the shorter does too. */
function minimal(factors: readonly string[]): string[] {
  const sorted = [...factors].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const factor of sorted) if (!kept.some((k) => factor.includes(k))) kept.push(factor);
  return kept;
}

/** The lists (by id) that cannot match `bytes`, given the generated rules that matched in the native pass. */
export function ruledOutLists(prefilter: KeywordPrefilter, matchedRules: ReadonlySet<string>, bytes: Uint8Array): Set<string> {
  const ruledOut = new Set<string>();
  let tokens: Set<TokenRequirement> | undefined;
  const holds = (run: RunRequirement | TokenRequirement) => {
    if (run.kind === 'run') return hasRun(bytes, run.chars, run.minLength);
    // Every token of every list in one pass per edge class, on first need.
    tokens ??= new Set(prefilter.tokenGroups.flatMap((group) => [...findTokens(bytes, group)]));
    return tokens.has(run);
  };
  for (const [id, plan] of prefilter.plans) {
    if (plan.always || (plan.rule !== undefined && matchedRules.has(plan.rule))) continue;
    if (plan.runs.some(holds)) continue;
    ruledOut.add(id);
  }
  return ruledOut;
}

/** Whether a `host:port` on a stratum port may occur (the `:PORT` literal did). */
export function portsPossible(prefilter: KeywordPrefilter, matchedRules: ReadonlySet<string>): boolean {
  return prefilter.portsRule === undefined || matchedRules.has(prefilter.portsRule);
}
