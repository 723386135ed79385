/**
 * SARIF 2.1.0 for `nomine scan --format sarif`: one result per flagged file and per metadata finding, the rule
 * being the strongest signal that fired, so code-scanning dashboards group miners by what identified them.
 */
import type { Severity } from '../core/severity.ts';
import type { ScanReport } from '../scan/scan-report.ts';
import type { Signal } from '../scan/signal.ts';
import type { Reporter } from './reporter.ts';

const strengthOrder = { conclusive: 0, strong: 1, weak: 2 } as const;

function leadSignal(signals: readonly Signal[]): Signal | undefined {
  return [...signals].sort((a, b) => strengthOrder[a.strength] - strengthOrder[b.strength])[0];
}

function level(severity: Severity): 'error' | 'warning' | 'note' {
  if (severity === 'critical' || severity === 'high') return 'error';
  if (severity === 'medium') return 'warning';
  return 'note';
}

const securitySeverity: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export const scanSarifReporter: Reporter<ScanReport> = {
  render(report) {
    const rules = new Map<string, { id: string; shortDescription: { text: string } }>();
    const results: unknown[] = [];
    const addRule = (signal: Signal | undefined) => {
      const id = signal?.rule ?? 'nomine.scan.suspicious';
      if (!rules.has(id)) rules.set(id, { id, shortDescription: { text: signal?.summary ?? 'suspicious file' } });
      return id;
    };
    for (const image of report.images) {
      for (const finding of image.findings) {
        results.push({
          ruleId: addRule(leadSignal(finding.evidence)),
          level: level(finding.severity),
          message: { text: `${finding.verdict} file ${finding.path} in ${image.image}: ${finding.evidence.map((signal) => signal.summary).join('; ')}` },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: finding.path.replace(/^\//, ''), uriBaseId: 'IMAGE_ROOT' } },
              logicalLocations: [{ name: image.image, kind: 'image' }, { name: finding.layer, kind: 'layer' }],
            },
          ],
          partialFingerprints: { sha256: finding.sha256 },
          properties: { image: image.image, layer: finding.layer, sha256: finding.sha256, verdict: finding.verdict, severity: finding.severity, 'security-severity': securitySeverity[finding.severity], presentInFinalImage: finding.presentInFinalImage },
        });
      }
      for (const finding of image.metadata) {
        results.push({
          ruleId: addRule(leadSignal(finding.evidence)),
          level: level(finding.severity),
          message: { text: `${finding.verdict} image metadata of ${image.image}: ${finding.evidence.map((signal) => signal.summary).join('; ')}` },
          locations: [{ logicalLocations: [{ name: image.image, kind: 'image' }] }],
          properties: { image: image.image, verdict: finding.verdict, severity: finding.severity, 'security-severity': securitySeverity[finding.severity] },
        });
      }
    }
    const sarif = {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'nomine', version: report.tool.version, informationUri: 'https://github.com/nomine/nomine', rules: [...rules.values()] } },
          invocations: report.images.map((image) => ({
            executionSuccessful: image.error === undefined,
            ...(image.error ? { toolExecutionNotifications: [{ level: 'error', message: { text: `${image.error.part ?? image.image}: ${image.error.message}` } }] } : {}),
          })),
          results,
        },
      ],
    };
    return `${JSON.stringify(sarif, null, 2)}\n`;
  },
};
