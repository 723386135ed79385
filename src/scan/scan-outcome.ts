/** Scan outcomes: how a report gates a pipeline. 2 when an image could not be scanned in full, else 1 when a
 * finding reaches the threshold, else 0. */
import { isAtLeast, type Severity } from '../core/severity.ts';
import type { ScanReport } from './scan-report.ts';

export type ScanOutcome = 'clean' | 'findings' | 'error';

export function scanOutcome(report: ScanReport, failOn: Severity): ScanOutcome {
  if (report.images.some((image) => image.error || image.problems.some((problem) => problem.code === 'layer-incomplete'))) return 'error';
  const severities = report.images.flatMap((image) => [...image.findings, ...image.metadata].map((finding) => finding.severity));
  return severities.some((severity) => isAtLeast(severity, failOn)) ? 'findings' : 'clean';
}
