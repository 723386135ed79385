/**
 * Evaluation: judges one check against one entity's facts. Pure and total: whatever the facts hold (wrong types,
 * nulls, hostile depth) it returns a CheckResult, `error` when the check itself cannot be evaluated, never throws.
 * Evidence names the concrete field paths that decided a failure, so a person (or the runner, mapping paths to
 * file and line) can find them.
 */
import { applyOperator, describeExpectation } from './apply-operator.ts';
import type { Assertion, CheckDefinition, Facts } from './check-definition.ts';
import { resolveField, type ResolvedValue } from './field-path.ts';
import { isPredicateName, predicates } from './predicates.ts';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'not-applicable' | 'error';

export interface FieldEvidence {
  summary: string;
  /** Concrete path in the facts (`containers[0].securityContext.privileged`). */
  field?: string;
}

export interface CheckResult {
  checkId: string;
  status: CheckStatus;
  evidence: FieldEvidence[];
  /** Why an `error` or `not-applicable` came about. */
  message?: string;
}

interface Outcome {
  ok: boolean;
  failures: FieldEvidence[];
}

/** Enough evidence to act on; a manifest with 5,000 failing ports does not need 5,000 lines. */
const maxEvidence = 20;
/** Nested assertions deeper than this are a mistake (or an attack on the stack). */
const maxDepth = 32;

function show(item: ResolvedValue): string {
  if (!item.present) return 'absent';
  const text = JSON.stringify(item.value) ?? String(item.value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function label(path: string, value: unknown): string {
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown; Name?: unknown }).name ?? (value as { Name?: unknown }).Name : undefined;
  return typeof name === 'string' ? `${path} (${name})` : path;
}

function resolve(facts: Facts, scope: ResolvedValue, field: string): ResolvedValue[] {
  if (field.startsWith('$.')) return resolveField(facts, field.slice(2));
  return resolveField(scope.value, field, scope.path);
}

function judge(assertion: Assertion, facts: Facts, scope: ResolvedValue, depth: number): Outcome {
  if (depth > maxDepth) throw new Error(`assertion nested deeper than ${maxDepth}`);
  if ('field' in assertion) {
    const failures: FieldEvidence[] = [];
    for (const item of resolve(facts, scope, assertion.field)) {
      const effective = !item.present && assertion.default !== undefined ? { ...item, value: assertion.default } : item;
      const present = item.present || assertion.default !== undefined;
      if (!applyOperator(assertion.op, effective.value, assertion.value, present)) {
        // File modes read as octal, as ls and chmod write them.
        const shown = item.present && assertion.op === 'modeAtMost' && typeof item.value === 'number' ? `0${(item.value & 0o7777).toString(8)}` : item.present ? show(item) : assertion.default !== undefined ? `absent (default ${JSON.stringify(assertion.default)})` : 'absent';
        failures.push({ field: item.path, summary: `${item.path} is ${shown}; ${describeExpectation(assertion.op, assertion.value)}` });
      }
    }
    return { ok: failures.length === 0, failures };
  }
  if ('all' in assertion) {
    const failures = assertion.all.flatMap((inner) => judge(inner, facts, scope, depth + 1).failures);
    return { ok: failures.length === 0, failures };
  }
  if ('any' in assertion) {
    const outcomes = assertion.any.map((inner) => judge(inner, facts, scope, depth + 1));
    if (outcomes.some((outcome) => outcome.ok)) return { ok: true, failures: [] };
    // The first alternative is the one a check lists as the usual fix; its failure is the useful message.
    return { ok: false, failures: outcomes[0]?.failures ?? [] };
  }
  if ('not' in assertion) {
    const inner = judge(assertion.not, facts, scope, depth + 1);
    return inner.ok ? { ok: false, failures: [{ field: scope.path || undefined, summary: `${scope.path || 'facts'}: a condition that must not hold holds` } as FieldEvidence] } : { ok: true, failures: [] };
  }
  if ('every' in assertion) {
    const failures: FieldEvidence[] = [];
    for (const element of resolve(facts, scope, assertion.every)) {
      if (!element.present) continue; // no list: nothing to hold the condition for
      const inner = judge(assertion.assert, facts, element, depth + 1);
      if (!inner.ok) failures.push(...inner.failures.map((failure) => ({ ...failure, summary: `${label(element.path, element.value)}: ${failure.summary}` })));
    }
    return { ok: failures.length === 0, failures };
  }
  if ('some' in assertion) {
    const elements = resolve(facts, scope, assertion.some).filter((element) => element.present);
    if (elements.some((element) => judge(assertion.assert, facts, element, depth + 1).ok)) return { ok: true, failures: [] };
    const where = elements[0]?.path ?? resolve(facts, scope, assertion.some)[0]?.path ?? assertion.some;
    return { ok: false, failures: [{ field: where, summary: `no entry of ${where.replace(/\[\d+\]$/, '')} satisfies the condition` }] };
  }
  if (!isPredicateName(assertion.predicate)) throw new Error(`unknown predicate ${assertion.predicate}`);
  const outcome = predicates[assertion.predicate](facts);
  return { ok: outcome.ok, failures: outcome.failures.map((failure) => ({ field: failure.path, summary: `${failure.path}: ${failure.message}` })) };
}

export function evaluate(check: CheckDefinition, facts: Facts): CheckResult {
  const root: ResolvedValue = { path: '', value: facts, present: true };
  try {
    if (typeof facts !== 'object' || facts === null) return { checkId: check.id, status: 'error', evidence: [], message: 'facts are not a mapping' };
    if (check.applies && !judge(check.applies, facts, root, 0).ok) return { checkId: check.id, status: 'not-applicable', evidence: [], message: 'the condition this check applies to does not hold' };
    const outcome = judge(check.assert, facts, root, 0);
    if (outcome.ok) return { checkId: check.id, status: 'pass', evidence: [] };
    const evidence = outcome.failures.slice(0, maxEvidence);
    if (outcome.failures.length > maxEvidence) evidence.push({ summary: `… and ${outcome.failures.length - maxEvidence} more` });
    return { checkId: check.id, status: check.advisory ? 'warn' : 'fail', evidence };
  } catch (error) {
    return { checkId: check.id, status: 'error', evidence: [], message: `check could not be evaluated: ${error instanceof Error ? error.message : String(error)}` };
  }
}
