/** Severity: the closed, ordered scale every finding, check and alert is graded on. */
export const severities = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

export function isAtLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export function isSeverity(value: string): value is Severity {
  return (severities as readonly string[]).includes(value);
}

export function maxSeverity(list: readonly Severity[]): Severity | undefined {
  let best: Severity | undefined;
  for (const s of list) if (best === undefined || severityRank(s) > severityRank(best)) best = s;
  return best;
}
