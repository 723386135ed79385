/**
 * Export guard: whether a profile may be exported at all. A profile still learning holds only what the workload did
 * so far; a policy enforced from it would block the behaviour it has not seen yet, so export refuses it unless forced.
 */
import { NomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { workloadSelector } from './kubernetes-name.ts';
import type { ExportOptions } from './policy-exporter.ts';

export function assertExportable(profile: Profile, options: ExportOptions, format: string): void {
  if (profile.phase === 'enforcing' || options.force) return;
  const since = Number.isFinite(profile.learningStartedAt) ? ` since ${new Date(profile.learningStartedAt).toISOString()}` : '';
  throw new NomineError(
    'invalid-input',
    `profile ${profile.id} is still learning${since}: its allow-list holds only what the workload has done so far, so a ${format} policy ` +
      'made from it would block behaviour not seen yet; export it once the profile is enforcing, or force the export',
    `profile ${profile.id}`,
  );
}

/** Warnings every export of a forced, still-learning profile carries. */
export function learningWarnings(profile: Profile): string[] {
  return profile.phase === 'learning' ? [`profile ${profile.id} is still learning: this policy may block behaviour the workload has not shown yet`] : [];
}

/** The labels that select the workload's pods; a policy without them would apply to every pod (`withoutIt` says how). */
export function requireWorkloadSelector(profile: Profile, options: ExportOptions, withoutIt: string): Record<string, string> {
  const selector = workloadSelector(profile, options.selector);
  if (Object.keys(selector).length > 0) return selector;
  throw new NomineError('invalid-input', `profile ${profile.id} has no labels that select its pods; ${withoutIt}; give the workload's labels as the selector`, `profile ${profile.id}`);
}
