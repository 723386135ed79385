/** Findings: what every nomine command reports, whatever produced it (a scanned file, a check, a probe). */
import type { Severity } from './severity.ts';

export interface Location {
  path: string;
  line?: number;
  /** Layer digest (diff_id) for image findings. */
  layer?: string;
}

export interface Evidence {
  summary: string;
  location?: Location;
}

export interface Subject {
  kind: 'image' | 'file' | 'container' | 'host' | 'manifest' | 'endpoint';
  /** What a person calls it: an image reference, a path, a URL. */
  name: string;
}

export interface Finding {
  ruleId: string;
  subject: Subject;
  severity: Severity;
  title: string;
  evidence: Evidence[];
  remediation?: string;
}
