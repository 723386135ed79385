/**
 * Check definitions: the shape of one declarative check (data/checks/**.yaml) and the closed assertion language it
 * is written in. An assertion names a field path of the facts and an operator from a fixed list, or combines other
 * assertions; nothing in it can run code except a `predicate`, which names a pure TS function from a literal map.
 */
import { z } from 'zod';
import { severities } from '../core/severity.ts';

export const auditTargets = [
  'docker.daemon',
  'docker.container',
  'docker.image',
  'docker.host',
  'k8s.workload',
  'k8s.kubelet',
  'k8s.apiserver',
  'k8s.controller-manager',
  'k8s.scheduler',
  'k8s.etcd',
] as const;
export type AuditTarget = (typeof auditTargets)[number];

/** Operators on one value. Those in `valueOperators` need `value`. */
export const operators = [
  'equals',
  'notEquals',
  'in',
  'notIn',
  'exists',
  'absent',
  'truthy',
  'falsy',
  'matches',
  'notMatches',
  'contains',
  'notContains',
  'empty',
  'notEmpty',
  'greaterThan',
  'greaterOrEqual',
  'lessThan',
  'lessOrEqual',
  'modeAtMost',
] as const;
export type Operator = (typeof operators)[number];

export const valueOperators: ReadonlySet<Operator> = new Set([
  'equals',
  'notEquals',
  'in',
  'notIn',
  'matches',
  'notMatches',
  'contains',
  'notContains',
  'greaterThan',
  'greaterOrEqual',
  'lessThan',
  'lessOrEqual',
  'modeAtMost',
]);

export type FieldAssertion = {
  /** Dotted path; `[*]` walks every element (or every value of a mapping), `["a.b"]` quotes a key, `$.` starts at the root. */
  field: string;
  op: Operator;
  value?: unknown;
  /** Used when the field is absent: the documented default of the setting (icc defaults to true). */
  default?: unknown;
};

export type Assertion =
  | FieldAssertion
  | { all: Assertion[] }
  | { any: Assertion[] }
  | { not: Assertion }
  /** Each element at `every` (relative paths inside `assert` start at the element) must satisfy `assert`. */
  | { every: string; assert: Assertion }
  /** At least one element at `some` satisfies `assert`. */
  | { some: string; assert: Assertion }
  | { predicate: string };

export type Facts = Record<string, unknown>;

export interface CheckDefinition {
  id: string;
  title: string;
  severity: (typeof severities)[number];
  target: AuditTarget;
  rationale: string;
  remediation: string;
  /** When present and false for the facts, the check is not applicable (TLS checks on a daemon with no TCP socket). */
  applies?: Assertion;
  assert: Assertion;
  /** An advisory check reports `warn` instead of `fail`: CIS "manual" items and site-dependent advice. */
  advisory?: boolean;
  examples: { pass: Facts[]; fail: Facts[]; notApplicable?: Facts[] };
  /** The file it was loaded from, for messages. */
  source?: string;
}

const idPattern = /^[a-z0-9]+(\.[a-z0-9-]+)+$/;

const fieldAssertionSchema = z
  .object({ field: z.string().min(1), op: z.enum(operators), value: z.unknown().optional(), default: z.unknown().optional() })
  .strict()
  .superRefine((assertion, ctx) => {
    if (valueOperators.has(assertion.op) && assertion.value === undefined) ctx.addIssue({ code: 'custom', message: `operator ${assertion.op} needs a value` });
    if ((assertion.op === 'in' || assertion.op === 'notIn') && !Array.isArray(assertion.value)) ctx.addIssue({ code: 'custom', message: `operator ${assertion.op} needs a list` });
    if (assertion.op === 'modeAtMost' && !(typeof assertion.value === 'string' && /^(0o)?[0-7]{1,4}$/.test(assertion.value))) {
      ctx.addIssue({ code: 'custom', message: "operator modeAtMost needs an octal mode as text ('644')" });
    }
    if (assertion.op === 'matches' || assertion.op === 'notMatches') {
      try {
        new RegExp(String(assertion.value));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(error as Error).message}` });
      }
    }
  });

export const assertionSchema: z.ZodType<Assertion> = z.lazy(() =>
  z.union([
    fieldAssertionSchema,
    z.object({ all: z.array(assertionSchema).min(1) }).strict(),
    z.object({ any: z.array(assertionSchema).min(1) }).strict(),
    z.object({ not: assertionSchema }).strict(),
    z.object({ every: z.string().min(1), assert: assertionSchema }).strict(),
    z.object({ some: z.string().min(1), assert: assertionSchema }).strict(),
    z.object({ predicate: z.string().min(1) }).strict(),
  ]),
) as z.ZodType<Assertion>;

const factsSchema = z.record(z.string(), z.unknown());

export const checkDefinitionSchema = z
  .object({
    id: z.string().regex(idPattern, 'id must be dotted lower-case words (docker.container.privileged)'),
    title: z.string().min(1),
    severity: z.enum(severities),
    target: z.enum(auditTargets),
    rationale: z.string().min(1),
    remediation: z.string().min(1),
    applies: assertionSchema.optional(),
    assert: assertionSchema,
    advisory: z.boolean().optional(),
    examples: z
      .object({ pass: z.array(factsSchema).min(1), fail: z.array(factsSchema).min(1), notApplicable: z.array(factsSchema).optional() })
      .strict(),
  })
  .strict();
