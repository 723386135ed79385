/**
 * Registry follow-up (`--scan-registries`): a registry whose catalog is open is handed on to `nomine scan`. We list
 * its images with the scan's own listRegistryImages (bounded by the scan limits) and name the command that scans
 * them all; running the scan pipeline itself stays in `nomine scan registry`, which owns its cache, workers and
 * report format.
 */
import { toNomineError } from '../core/errors.ts';
import { defaultLimits } from '../platform/limits.ts';
import { listRegistryImages } from '../scan/sources/registry-catalog.ts';
import type { FollowUp, ProbeReport } from './probe-report.ts';

/** Images listed per registry for the report; the scan command walks them all. */
const maxListedImages = 100;

export async function followOpenRegistries(report: ProbeReport, signal?: AbortSignal): Promise<FollowUp[]> {
  const followUps: FollowUp[] = [];
  for (const endpoint of report.endpoints) {
    const isOpen = endpoint.outcomes.some((outcome) => outcome.checkId === 'registry.catalog.anonymous' && outcome.status === 'fail');
    if (!isOpen) continue;
    const registry = endpoint.endpoint;
    const insecure = endpoint.scheme === 'http';
    const followUp: FollowUp = { registry, command: `nomine scan registry ${registry}${insecure ? ' --insecure' : ''}`, images: [] };
    try {
      for await (const image of listRegistryImages(registry, { limits: defaultLimits, registry: { insecure }, ...(signal ? { signal } : {}) }, { onNotice: () => undefined })) {
        followUp.images.push(image);
        if (followUp.images.length >= maxListedImages) break;
      }
    } catch (error) {
      followUp.error = toNomineError(error, `registry ${registry}`).describe();
    }
    followUps.push(followUp);
  }
  return followUps;
}
