/**
 * Keyword prefilter: the keyword lists turned into YARA rules of literal factors (one rule per list, plus one for
 * the stratum ports), matched in the same native pass as the YARA rules, so a list's regular expression runs only
 * on the files where that pass (or, for wallet-like patterns, a run of address characters) says it could match.
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
  /** By keyword list id. */
  plans: ReadonlyMap<string, KeywordPlan>;
  /** The rule that matches `:PORT` for every stratum port, when there are ports. */
  portsRule?: string;
  /** The token requirements of every list, grouped by edge: each group is looked for in one pass. */
  tokenGroups: readonly (readonly TokenRequirement[])[];
}

/** Generated rule names start with this; a user rule set using the prefix keeps the generated rules apart. */
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
  const rules: string[] = [];
  lists.forEach((list, index) => {
    if (!list.scopes.includes('files')) return;
    const { factors, runs, always } = planOf(list);
    const rule = factors.length > 0 && !always ? `${generatedRulePrefix}${index}` : undefined;
    if (rule) rules.push(literalRule(rule, factors, list.matcher.flags.includes('i')));
    plans.set(list.id, { ...(rule ? { rule } : {}), runs, always });
  });
  let portsRule: string | undefined;
  if (stratumPorts.size > 0) {
    portsRule = `${generatedRulePrefix}ports`;
    rules.push(literalRule(portsRule, [...stratumPorts].map((port) => `:${port}`), false));
  }
  const groups = new Map<string, TokenRequirement[]>();
  for (const plan of plans.values()) {
    for (const run of plan.runs) {
      if (run.kind !== 'token') continue;
      const key = run.edge.join('');
      groups.set(key, [...(groups.get(key) ?? []), run]);
    }
  }
  return { source: rules.join('\n'), plans, ...(portsRule ? { portsRule } : {}), tokenGroups: [...groups.values()] };
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
