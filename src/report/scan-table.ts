/** The terminal table for `nomine scan`: per image a summary line, then one row per flagged file with its why. */
import pc from 'picocolors';
import type { Severity } from '../core/severity.ts';
import { lazyRequire } from '../platform/lazy-require.ts';
import type { ScanReport } from '../scan/scan-report.ts';
import type { Reporter } from './reporter.ts';

// Loaded when a table is printed: --json and SARIF runs never need it.
const Table = lazyRequire<typeof import('cli-table3')>('cli-table3');

function paint(severity: Severity, color: boolean): string {
  if (!color) return severity.toUpperCase();
  const colors = { critical: pc.red, high: pc.red, medium: pc.yellow, low: pc.cyan, info: pc.dim } as const;
  return colors[severity](severity.toUpperCase());
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export const scanTableReporter: Reporter<ScanReport> = {
  render(report, { color }) {
    const out: string[] = [];
    for (const image of report.images) {
      const bytes = image.layers.reduce((sum, layer) => sum + layer.bytes, 0);
      const cached = image.layers.filter((layer) => layer.fromCache).length;
      out.push(`${color ? pc.bold(image.image) : image.image}  ${image.layers.length} layers (${cached} from cache), ${megabytes(bytes)}, ${(image.durationMs / 1000).toFixed(1)} s`);
      if (image.error) out.push(`  ${color ? pc.red('error') : 'error'}: ${image.error.part ? `${image.error.part}: ` : ''}${image.error.message}`);
      if (image.findings.length === 0 && image.metadata.length === 0 && !image.error) out.push('  no miners found');
      if (image.findings.length > 0) {
        const table = new (Table())({ head: ['severity', 'verdict', 'file', 'layer', 'why'], colWidths: [10, 12, 34, 17, 70], wordWrap: true, style: color ? { head: ['bold'] } : { head: [], border: [] } });
        for (const finding of image.findings) {
          const where = finding.presentInFinalImage ? '' : ` (deleted by layer ${finding.removedBy?.layerIndex}: still shipped)`;
          table.push([
            paint(finding.severity, color),
            finding.verdict,
            `${finding.path}${where}`,
            `${finding.layerIndex}: ${finding.layer.replace(/^sha256:/, '').slice(0, 12)}`,
            finding.evidence.map((signal) => `• ${signal.summary}`).join('\n'),
          ]);
        }
        out.push(table.toString());
      }
      for (const finding of image.metadata) {
        out.push(`  ${paint(finding.severity, color)} image metadata is ${finding.verdict}:`);
        for (const signal of finding.evidence) out.push(`    • ${signal.summary}`);
      }
      const problems = image.problems.slice(0, 10);
      for (const problem of problems) out.push(`  ${color ? pc.yellow('problem') : 'problem'} ${problem.part}: ${problem.message}`);
      if (image.problems.length > problems.length) out.push(`  … and ${image.problems.length - problems.length} more problems (see --json)`);
      out.push('');
    }
    return `${out.join('\n')}\n`;
  },
};
