/**
 * Layer analysis: stream one layer's tarball entry by entry, read only the files some analyzer wants (judged on
 * the header and first 4 KiB), hash and analyze them, and keep the whiteouts and paths. Memory is bounded by the
 * bytes in flight (limits.maxAnalysisInFlightBytes, plus one file's analyzed prefix) whatever the layer's size.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';
import { NomineError, toNomineError } from '../core/errors.ts';
import type { Limits } from '../platform/limits.ts';
import { decompressLayer } from './decompress-layer.ts';
import { linkEscapesRoot, normaliseEntryPath } from './entry-path.ts';
import type { FileAnalysis } from './file-analysis.ts';
import type { FileAnalyzer } from './file-analyzer.ts';
import type { EntryType, LayerEntry } from './layer-entry.ts';
import type { FlaggedFile, LayerReport, Problem } from './layer-report.ts';
import { decideVerdict } from './verdict.ts';

const headBytes = 4096;

/** A tar entry's content stream (tar-stream's streamx Readable). */
type EntryBody = AsyncIterable<unknown> & { resume(): unknown };
const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

export interface LayerAnalysisOptions {
  key: string;
  part: string;
  /** Consulted on the header and first bytes of each file: which analyzers want it. */
  analyzers: readonly FileAnalyzer[];
  /** Runs the wanted analyzers, here or on worker threads. */
  analysis: FileAnalysis;
  limits: Limits;
  /** Called with uncompressed bytes read so far, for progress bars. */
  onBytes?: (bytes: number) => void;
}

/** A layer whose stream has been read to its end; its files' analysis may still be running. */
export interface ReadLayer {
  analysed: Promise<LayerReport>;
}

/**
 * Reads the layer's stream to its end and resolves then, so the next layer can be read while analysis finishes
 * this one's files: waiting for them first left a core idle at every layer boundary.
 */
export async function readLayer(blob: Readable, options: LayerAnalysisOptions): Promise<ReadLayer> {
  const { key, part, limits } = options;
  const layer = await decompressLayer(blob, part, limits.maxLayerBytes);
  const report: LayerReport = {
    key,
    flagged: [],
    whiteouts: [],
    opaqueDirs: [],
    paths: [],
    stats: { bytes: 0, entries: 0, analyzedFiles: 0, analyzedBytes: 0 },
    problems: [],
  };
  const pending: Promise<FlaggedFile | undefined>[] = [];
  const inFlight = { bytes: 0, drained: Promise.resolve() as Promise<unknown> };
  const tar = extract();
  layer.stream.on('error', (error) => tar.destroy(error));
  layer.stream.pipe(tar);
  try {
    for await (const body of tar) {
      report.stats.entries += 1;
      if (report.stats.entries > limits.maxLayerEntries) {
        throw new NomineError('limit-exceeded', `layer has more than ${limits.maxLayerEntries} entries (limits.maxLayerEntries)`, part);
      }
      const entry = toLayerEntry(body.header, report.problems, part);
      if (!entry) {
        body.resume();
        continue;
      }
      if (recordWhiteout(entry, report)) {
        body.resume();
        continue;
      }
      if (entry.type !== 'directory') report.paths.push(entry.path);
      if (entry.type !== 'file') {
        body.resume();
        continue;
      }
      const analysed = await readWantedFile(entry, body, options, report);
      if (analysed) pending.push(analysed.bytes > 0 ? track(analysed, inFlight, limits.maxAnalysisInFlightBytes) : analysed.result);
      if (inFlight.bytes > limits.maxAnalysisInFlightBytes) await inFlight.drained;
      options.onBytes?.(layer.bytesOut());
    }
  } catch (error) {
    layer.stream.destroy();
    blob.resume();
    throw describeTarError(error, part);
  }
  report.stats.bytes = layer.bytesOut();
  options.onBytes?.(report.stats.bytes);
  const analysed = Promise.all(pending).then((results) => {
    for (const flagged of results) if (flagged) report.flagged.push(flagged);
    return report;
  });
  analysed.catch(() => undefined); // a failure surfaces where `analysed` is awaited, not as unhandled meanwhile
  return { analysed };
}

function toLayerEntry(header: Header, problems: Problem[], part: string): LayerEntry | undefined {
  const { path, escapes } = normaliseEntryPath(header.name);
  if (escapes) {
    problems.push({ code: 'path-escapes-root', part, message: `entry "${header.name}" points outside the image root; read as "${path}"` });
  }
  if (path === '') return undefined;
  const type = entryType(header.type);
  const entry: LayerEntry = { path, type, size: header.size ?? 0, mode: header.mode ?? 0 };
  if (header.linkname) {
    entry.linkTarget = header.linkname;
    const escapesRoot = type === 'hardlink' ? normaliseEntryPath(header.linkname).escapes : linkEscapesRoot(path, header.linkname);
    if (escapesRoot) {
      problems.push({ code: 'link-escapes-root', part, message: `${type} "${path}" points outside the image root to "${header.linkname}"; not followed` });
    }
  }
  return entry;
}

function entryType(type: Header['type']): EntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

function recordWhiteout(entry: LayerEntry, report: LayerReport): boolean {
  const slash = entry.path.lastIndexOf('/');
  const directory = slash === -1 ? '' : entry.path.slice(0, slash);
  const name = entry.path.slice(slash + 1);
  if (name === opaqueMarker) {
    report.opaqueDirs.push(directory);
    return true;
  }
  if (name.startsWith(whiteoutPrefix)) {
    const deleted = name.slice(whiteoutPrefix.length);
    report.whiteouts.push(directory ? `${directory}/${deleted}` : deleted);
    return true;
  }
  return false;
}

interface PendingFile {
  bytes: number;
  result: Promise<FlaggedFile | undefined>;
}

/** Counts the bytes a file holds while its analysis runs, so the layer stream pauses when too much is waiting. */
function track(file: PendingFile, inFlight: { bytes: number; drained: Promise<unknown> }, limit: number): Promise<FlaggedFile | undefined> {
  inFlight.bytes += file.bytes;
  const done = file.result.finally(() => {
    inFlight.bytes -= file.bytes;
  });
  const settled = done.catch(() => undefined); // failures surface where all files are awaited, not as unhandled
  if (inFlight.bytes > limit) inFlight.drained = settled;
  return done;
}

async function readWantedFile(entry: LayerEntry, body: EntryBody, options: LayerAnalysisOptions, report: LayerReport): Promise<PendingFile | undefined> {
  const { limits, part } = options;
  if (entry.size > limits.maxFileBytes) {
    report.problems.push({ code: 'file-too-large', part, message: `"${entry.path}" declares ${entry.size} bytes, over limits.maxFileBytes (${limits.maxFileBytes}); skipped` });
    body.resume();
    return undefined;
  }
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let held = 0;
  // Gather the head: the first chunks up to 4 KiB decide whether the file is read at all.
  while (held < Math.min(headBytes, entry.size)) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    held += next.value.length;
  }
  const head = chunks.length === 1 ? chunks[0]!.subarray(0, headBytes) : Buffer.concat(chunks).subarray(0, headBytes);
  const wanted = options.analyzers.filter((analyzer) => analyzer.wants({ entry, head }));
  if (wanted.length === 0) {
    await drain(iterator);
    return undefined;
  }
  // The analyzed prefix goes straight into memory the analysis provides (shared with its workers) when it has
  // room for it; waiting for that room is what pauses the layer while analysis catches up. A file only digest
  // readers want (random data, archives: a fifth of the benchmark image's bytes) keeps nothing and never waits.
  const keep = wanted.every((analyzer) => analyzer.digestOnly) ? 0 : Math.min(entry.size, limits.maxAnalyzedFileBytes);
  const reserved = keep > 0 ? options.analysis.reserve?.(keep, limits) : undefined;
  const target = reserved ? await reserved : Buffer.allocUnsafe(keep);
  // A file kept whole is hashed by the analysis (a worker thread); one kept in part, or not at all, only here.
  const hash = keep < entry.size || options.analysis.lagging?.() ? createHash('sha256') : undefined;
  let kept = 0;
  const take = (chunk: Buffer) => {
    hash?.update(chunk);
    if (kept < keep) kept += chunk.copy(target, kept, 0, Math.min(chunk.length, keep - kept));
  };
  try {
    for (const chunk of chunks) take(chunk);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      take(next.value);
      held += next.value.length;
    }
  } catch (error) {
    options.analysis.release?.(target);
    throw error;
  }
  const truncated = keep > 0 && held > limits.maxAnalyzedFileBytes;
  const bytes = kept === target.length ? target : target.subarray(0, kept);
  const file = { entry, bytes, truncated, layer: options.key, ...(hash ? { sha256: hash.digest('hex') } : {}) };
  const size = held;
  report.stats.analyzedFiles += 1;
  report.stats.analyzedBytes += bytes.length;
  const result = options.analysis.analyze(file, wanted.map((analyzer) => analyzer.id)).then(({ signals, failures, sha256 }): FlaggedFile | undefined => {
    for (const failure of failures) report.problems.push({ code: 'unreadable', part: `${part} ${entry.path}`, message: `${failure.analyzer}: ${failure.message}` });
    const decision = decideVerdict(signals);
    if (decision.verdict === 'clean') return undefined;
    return { path: entry.path, layer: options.key, sha256, size, mode: entry.mode, verdict: decision.verdict, severity: decision.severity, signals, truncated };
  });
  // Bytes in the analysis's own memory are bounded by it; only plain buffers count toward the in-flight limit.
  return { bytes: reserved ? 0 : bytes.length, result };
}

async function drain(iterator: AsyncIterator<Buffer>): Promise<void> {
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    // discard: no analyzer wants this file
  }
}

function describeTarError(error: unknown, part: string): NomineError {
  if (error instanceof NomineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end|premature|truncated/i.test(message)) {
    return new NomineError('invalid-input', `truncated layer tarball (${message})`, part, { cause: error });
  }
  if (/invalid tar header|unknown format|checksum/i.test(message)) {
    return new NomineError('invalid-input', `not a valid tar layer (${message})`, part, { cause: error });
  }
  return toNomineError(error, part);
}
