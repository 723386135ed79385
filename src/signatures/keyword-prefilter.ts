/**
 * Keyword prefilter: the keyword lists turned into YARA rules of literal factors (one rule per list, plus one for
 * the stratum ports), matched in the same native pass as the YARA rules, so a list's regular expression runs only
 * on the files where that pass (or, for wallet-like patterns, a run of address characters) says it could match.
 * Verdicts do not change: a list's expression still decides, on the whole file, exactly as before; the prefilter
 * only skips expressions that provably cannot match. A list whose patterns are not understood always runs.
 */
import { literalRule } from './literal-rule.ts';
import type { KeywordList } from './signatures.ts';
import { hasRun, hasToken, patternRequirements, type MatchRequirement, type RunRequirement, type TokenRequirement } from './match-requirements.ts';

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
  /** Every run and token requirement widened into one: where it fails, they all do (one pass instead of several). */
  anyRun?: RunRequirement | TokenRequirement;
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
  const runs = [...plans.values()].flatMap((plan) => plan.runs);
  const anyRun = runs.length > 1 ? widestRun(runs) : undefined;
  return { source: rules.join('\n'), plans, ...(portsRule ? { portsRule } : {}), ...(anyRun ? { anyRun } : {}) };
}

/**
 * One requirement every given one implies. Tokens widen into a token (the intersection of their edges, the union of
 * their characters, the widest length range) while those characters stay within that edge; otherwise into a run (a
 * token is a run too): the union of the classes at the shortest length.
 */
function widestRun(runs: readonly (RunRequirement | TokenRequirement)[]): RunRequirement | TokenRequirement {
  const chars = new Uint8Array(256);
  for (const run of runs) for (let c = 0; c < 256; c++) chars[c] = chars[c]! | run.chars[c]!;
  const minLength = Math.min(...runs.map((run) => run.minLength));
  const tokens = runs.filter((run): run is TokenRequirement => run.kind === 'token');
  if (tokens.length === runs.length) {
    const edge = new Uint8Array(256);
    for (let c = 0; c < 256; c++) edge[c] = tokens.every((token) => token.edge[c] === 1) ? 1 : 0;
    if (chars.every((flag, c) => flag === 0 || edge[c] === 1)) {
      return { kind: 'token', edge, chars, minLength, maxLength: Math.max(...tokens.map((token) => token.maxLength)) };
    }
  }
  return { kind: 'run', chars, minLength };
}

/** The lists (by id) that cannot match `bytes`, given the generated rules that matched in the native pass. */
export function ruledOutLists(prefilter: KeywordPrefilter, matchedRules: ReadonlySet<string>, bytes: Uint8Array): Set<string> {
  const ruledOut = new Set<string>();
  // One pass for the common case of text without address-like runs, instead of one per requirement.
  const runsPossible = !prefilter.anyRun || holds(bytes, prefilter.anyRun);
  for (const [id, plan] of prefilter.plans) {
    if (plan.always || (plan.rule !== undefined && matchedRules.has(plan.rule))) continue;
    if (runsPossible && plan.runs.some((run) => holds(bytes, run))) continue;
    ruledOut.add(id);
  }
  return ruledOut;
}

function holds(bytes: Uint8Array, requirement: RunRequirement | TokenRequirement): boolean {
  return requirement.kind === 'run' ? hasRun(bytes, requirement.chars, requirement.minLength) : hasToken(bytes, requirement);
}

/** Whether a `host:port` on a stratum port may occur (the `:PORT` literal did). */
export function portsPossible(prefilter: KeywordPrefilter, matchedRules: ReadonlySet<string>): boolean {
  return prefilter.portsRule === undefined || matchedRules.has(prefilter.portsRule);
}
