/**
 * Scanning one image: open the source, take every layer the cache already knows from the cache, stream the others
 * through layer analysis, then judge the metadata and work out which flagged files survive to the final file
 * system. A failing layer does not hide what the other layers showed: the report carries the error beside them.
 */
import type { Readable } from 'node:stream';
import { toNomineError } from '../core/errors.ts';
import type { Signatures } from '../signatures/signatures.ts';
import { readLayer } from './analyze-layer.ts';
import { analyzeImageConfig } from './analyzers/image-config.ts';
import type { FileAnalysis } from './file-analysis.ts';
import type { FileAnalyzer } from './file-analyzer.ts';
import { findRemoval } from './final-filesystem.ts';
import type { ImageSource, LayerDescriptor, SourceContext } from './image-source.ts';
import type { LayerCache } from './layer-cache.ts';
import type { LayerReport } from './layer-report.ts';
import type { FileFinding, ImageScanReport, LayerSummary, MetadataFinding } from './scan-report.ts';
import { decideVerdict } from './verdict.ts';

export interface ScanProgress {
  imageOpened(image: string, layers: number, bytesToRead: number | undefined): void;
  layerStarted(layer: LayerDescriptor): void;
  bytesRead(layerBytes: number): void;
  layerDone(layer: LayerDescriptor, fromCache: boolean): void;
}

export interface ImageScanDependencies {
  analyzers: readonly FileAnalyzer[];
  analysis: FileAnalysis;
  signatures: Signatures;
  cache: LayerCache;
  context: SourceContext;
  progress?: ScanProgress;
  now: () => number;
}

export async function scanImage(source: ImageSource, deps: ImageScanDependencies): Promise<ImageScanReport> {
  const started = deps.now();
  const name = source.ref.startsWith(`${source.transport}:`) ? source.ref : `${source.transport}:${source.ref}`;
  const report: ImageScanReport = { image: name, names: [], layers: [], findings: [], metadata: [], problems: [], durationMs: 0 };
  let image;
  try {
    image = await source.open(deps.context);
  } catch (error) {
    report.error = describe(toNomineError(error, `image ${name}`));
    report.durationMs = deps.now() - started;
    return report;
  }
  try {
    report.names = image.names;
    if (image.digest) report.digest = image.digest;
    const layerReports = new Map<string, LayerReport>();
    const fromCache = new Set<string>();
    for (const layer of image.layers) {
      const cached = layer.cacheable ? await deps.cache.get(layer.key) : undefined;
      if (cached) {
        layerReports.set(layer.key, cached);
        fromCache.add(layer.key);
      }
    }
    const wanted = new Set(image.layers.filter((layer) => !layerReports.has(layer.key)).map((layer) => layer.key));
    const bytesToRead = image.layers.every((layer) => !wanted.has(layer.key) || layer.size !== undefined)
      ? image.layers.reduce((sum, layer) => sum + (wanted.has(layer.key) ? (layer.size ?? 0) : 0), 0)
      : undefined;
    deps.progress?.imageOpened(name, image.layers.length, bytesToRead);
    for (const layer of image.layers) if (fromCache.has(layer.key)) deps.progress?.layerDone(layer, true);
    // Layers are read one after another (one archive, one connection), but a layer's analysis finishes while
    // the next is read.
    const finishing: Promise<void>[] = [];
    try {
      await image.readLayers(wanted, async (layer: LayerDescriptor, blob: Readable) => {
        deps.progress?.layerStarted(layer);
        const { analysed } = await readLayer(blob, {
          key: layer.key,
          part: `layer ${layer.index} ${layer.digest ?? layer.key}`,
          analyzers: deps.analyzers,
          analysis: deps.analysis,
          limits: deps.context.limits,
          onBytes: (bytes) => deps.progress?.bytesRead(bytes),
        });
        const finished = analysed.then(async (layerReport) => {
          layerReports.set(layer.key, layerReport);
          if (layer.cacheable) await deps.cache.put(layerReport);
          deps.progress?.layerDone(layer, false);
        });
        finished.catch(() => undefined); // said below, once every layer has settled
        finishing.push(finished);
      });
    } catch (error) {
      report.error = describe(toNomineError(error, `image ${name}`));
    }
    const failed = (await Promise.allSettled(finishing)).find((outcome) => outcome.status === 'rejected');
    if (failed && !report.error) report.error = describe(toNomineError(failed.reason, `image ${name}`));
    // Which files later layers removed can only be told when every layer was read.
    const ordered = image.layers.map((layer) => layerReports.get(layer.key));
    const complete = ordered.every((layer) => layer !== undefined) ? (ordered as LayerReport[]) : undefined;
    for (const layer of image.layers) {
      const layerReport = layerReports.get(layer.key);
      if (!layerReport) {
        report.problems.push({ code: 'layer-incomplete', part: `layer ${layer.index} ${layer.digest ?? layer.key}`, message: 'layer was not analyzed; its findings are missing' });
        continue;
      }
      report.layers.push(summarise(layer, layerReport, fromCache.has(layer.key)));
      report.problems.push(...layerReport.problems);
      for (const flagged of layerReport.flagged) {
        const removal = complete ? findRemoval(complete, layer.index, flagged.path) : undefined;
        const finding: FileFinding = {
          image: name,
          path: `/${flagged.path}`,
          layer: layer.diffId ?? layer.key,
          layerIndex: layer.index,
          sha256: flagged.sha256,
          size: flagged.size,
          verdict: flagged.verdict,
          severity: flagged.severity,
          evidence: flagged.signals,
          presentInFinalImage: removal === undefined,
          truncated: flagged.truncated,
        };
        if (removal) finding.removedBy = { ...removal, layer: image.layers[removal.layerIndex]?.key ?? '' };
        report.findings.push(finding);
      }
    }
    const metadataSignals = analyzeImageConfig({ names: image.names, config: image.config }, deps.signatures);
    const metadataVerdict = decideVerdict(metadataSignals);
    if (metadataVerdict.verdict !== 'clean') {
      const finding: MetadataFinding = { image: name, verdict: metadataVerdict.verdict, severity: metadataVerdict.severity, evidence: metadataSignals };
      report.metadata.push(finding);
    }
  } finally {
    await image.close().catch(() => undefined);
  }
  report.durationMs = deps.now() - started;
  return report;
}

function summarise(layer: LayerDescriptor, report: LayerReport, fromCache: boolean): LayerSummary {
  const summary: LayerSummary = { index: layer.index, key: layer.key, bytes: report.stats.bytes, entries: report.stats.entries, analyzedFiles: report.stats.analyzedFiles, fromCache };
  if (layer.digest) summary.digest = layer.digest;
  return summary;
}

function describe(error: ReturnType<typeof toNomineError>): NonNullable<ImageScanReport['error']> {
  return { code: error.code, ...(error.part ? { part: error.part } : {}), message: error.message };
}
