/**
 * JSON for `nomine scan --json`: one object whose `findings` array lists the flagged files of every image
 * (path, layer, sha256, verdict, severity, evidence), with the per-image summaries and metadata findings beside it.
 */
import type { ScanReport } from '../scan/scan-report.ts';
import type { Reporter } from './reporter.ts';

export const scanJsonReporter: Reporter<ScanReport> = {
  render(report) {
    const findings = report.images.flatMap((image) => image.findings);
    const metadata = report.images.flatMap((image) => image.metadata);
    const images = report.images.map(({ findings: _f, metadata: _m, ...image }) => ({
      ...image,
      counts: { findings: _f.length, metadata: _m.length },
    }));
    return `${JSON.stringify({ tool: report.tool, ruleset: report.ruleset, findings, metadata, images }, null, 2)}\n`;
  },
};
