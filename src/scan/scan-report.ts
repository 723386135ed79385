/** Scan reports: what `nomine scan` tells a person or a pipeline about one or more images. */
import type { Severity } from '../core/severity.ts';
import type { Removal } from './final-filesystem.ts';
import type { Problem } from './layer-report.ts';
import type { Signal, Verdict } from './signal.ts';

export interface FileFinding {
  /** Reference of the image, as the user named it. */
  image: string;
  path: string;
  /** Layer digest (diff_id) that added the file. */
  layer: string;
  layerIndex: number;
  sha256: string;
  size: number;
  verdict: Exclude<Verdict, 'clean'>;
  severity: Severity;
  evidence: Signal[];
  /** False when a later layer deleted or replaced the file: still shipped in the image, not visible at run time. */
  presentInFinalImage: boolean;
  removedBy?: Removal & { layer: string };
  truncated: boolean;
}

/** A finding in the image's metadata: its name, entrypoint, command, environment, labels or history. */
export interface MetadataFinding {
  image: string;
  verdict: Exclude<Verdict, 'clean'>;
  severity: Severity;
  evidence: Signal[];
}

export interface LayerSummary {
  index: number;
  key: string;
  digest?: string;
  bytes: number;
  entries: number;
  analyzedFiles: number;
  fromCache: boolean;
}

export interface ImageScanReport {
  image: string;
  names: string[];
  digest?: string;
  layers: LayerSummary[];
  findings: FileFinding[];
  metadata: MetadataFinding[];
  problems: Problem[];
  /** Set when the image could not be scanned in full: the findings are then incomplete. */
  error?: { code: string; part?: string; message: string };
  durationMs: number;
}

export interface ScanReport {
  tool: { name: 'nomine'; version: string };
  ruleset: string;
  images: ImageScanReport[];
}
