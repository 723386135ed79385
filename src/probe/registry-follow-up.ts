/**
 * Registry follow-up (`--scan-registries`): a registry whose catalog is open is handed on to the scanner, so one
 * command answers both "can anyone tamper with my images?" and "did someone?". The images are listed with the
 * scan's own listRegistryImages; the scan itself is passed in by the CLI, which owns the scan session (signatures,
 * workers, cache).
 */
import { toNomineError } from '../core/errors.ts';
import { defaultLimits } from '../platform/limits.ts';
import { listRegistryImages } from '../scan/sources/registry-catalog.ts';
import type { ScanReport } from '../scan/scan-report.ts';
import type { FollowUp, FollowUpScan, ProbeReport } from './probe-report.ts';

/** Scans every image of the registry at `registry` (HOST:PORT), over plain HTTP when `insecure`. */
export type RegistryScanner = (registry: string, insecure: boolean) => Promise<ScanReport>;

/** Images listed per registry for the report; the scan command walks them all. */
const maxListedImages = 100;

export async function followOpenRegistries(report: ProbeReport, scanRegistry?: RegistryScanner, signal?: AbortSignal): Promise<FollowUp[]> {
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
    if (scanRegistry && !followUp.error) {
      try {
        followUp.scan = summariseScan(await scanRegistry(registry, insecure));
      } catch (error) {
        followUp.scan = { images: 0, findings: [], errors: [toNomineError(error, `registry ${registry}`).describe()] };
      }
    }
    followUps.push(followUp);
  }
  return followUps;
}

function summariseScan(report: ScanReport): FollowUpScan {
  const findings: FollowUpScan['findings'] = [];
  const errors: string[] = [];
  for (const image of report.images) {
    for (const file of image.findings) findings.push({ image: image.image, what: file.path, verdict: file.verdict, severity: file.severity });
    for (const metadata of image.metadata) findings.push({ image: image.image, what: 'image metadata', verdict: metadata.verdict, severity: metadata.severity });
    if (image.error) errors.push(`${image.image}: ${image.error.message}`);
  }
  return { images: report.images.length, findings, errors };
}
