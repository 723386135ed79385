/**
 * Outbox: alerts on disk until every output has them, so an output that is down (a webhook receiver restarting,
 * a full disk under `--alerts FILE`) loses nothing and a crash of the agent loses at most the batch being written.
 *
 * Layout under the directory passed in (normally `$NOMINE_HOME/outbox`):
 *   segments/<first seq, 16 digits>.jsonl   append-only lines `{"seq":N,"alert":{…}}`, fsync'd after every batch
 *   cursors/<output>.json                   `{"seq":N}`: that output has everything up to N (temp file + rename)
 *   state.json                              `{"dropped":N}`: alerts dropped because the outbox was full
 * A new segment starts every `segmentBytes`; a segment every output has passed is deleted. Above `maxBytes` the
 * oldest segment is dropped even if an output still lacks it, and the alerts lost are counted in `state.json` and
 * the stats: the outbox never grows without bound and never drops silently. On open, a torn last line (a crash
 * mid-write) is cut off and counted; a line that is not a valid record is skipped and counted. Delivery is at least
 * once: a crash between delivering and writing the cursor replays that batch to that output.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { NomineError, toNomineError } from '../core/errors.ts';
import type { Alert } from './alert.ts';
import { formatOutboxRecord, maxOutboxLineBytes, parseOutboxRecord, type OutboxRecord } from './outbox-record.ts';

export type { OutboxRecord } from './outbox-record.ts';

const MiB = 1024 * 1024;
/** Bytes the outbox may hold on disk; beyond it the oldest segment is dropped and its undelivered alerts counted. */
export const defaultOutboxMaxBytes = 64 * MiB;
/** Bytes after which the next batch starts a new segment (the unit of deletion and of dropping). */
export const defaultOutboxSegmentBytes = 1 * MiB;

const readChunkBytes = 64 * 1024;
const maxCursorFileBytes = 4096;
const outputNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const segmentNamePattern = /^(\d{16})\.jsonl$/;

export interface OutboxOptions {
  /** Outputs reading from the outbox; a segment is deleted once every one of them has passed it. */
  outputs: readonly string[];
  maxBytes?: number;
  segmentBytes?: number;
}

export interface OutboxStats {
  segments: number;
  bytes: number;
  /** Seq of the last alert written and synced. */
  lastSeq: number;
  /** Alerts dropped, over the outbox's whole life, because it was full before every output had them. */
  dropped: number;
  /** Torn last lines (crash mid-write) cut off when the outbox was opened. */
  tornLines: number;
  /** Lines that were not valid records, skipped when the outbox was opened. */
  corruptLines: number;
  /** Cursor files that could not be read (the output replays from the start of the outbox). */
  corruptCursors: number;
  /** Per output: the seq it has everything up to. */
  cursors: Record<string, number>;
}

export interface Outbox {
  /** Writes the alerts as one batch, synced to disk before it resolves; returns the seq of the last one. */
  append(alerts: readonly Alert[]): Promise<number>;
  /** Up to `max` records after `afterSeq`, in order (gaps where alerts were dropped or corrupt). */
  read(output: string, afterSeq: number, max: number): Promise<OutboxRecord[]>;
  /** The seq `output` has everything up to. */
  cursor(output: string): number;
  /** Records that `output` has everything up to `seq` (atomically), and deletes segments every output has passed. */
  acknowledge(output: string, seq: number): Promise<void>;
  /** Seq of the last alert written and synced (0 when none ever was). */
  readonly lastSeq: number;
  stats(): OutboxStats;
  close(): Promise<void>;
}

interface Segment {
  path: string;
  /** Seq of the first and last valid record; lastSeq < firstSeq while empty. */
  firstSeq: number;
  lastSeq: number;
  records: number;
  /** Bytes of whole lines: readers never look past it. */
  bytes: number;
}

interface ReadHint {
  segment: Segment;
  offset: number;
  nextSeq: number;
}

interface ScannedLine {
  /** The line without its newline; undefined when it was longer than maxOutboxLineBytes. */
  line: Buffer | undefined;
  /** Offset just after its newline. */
  end: number;
}

/** Whole lines of [start, end) of a file, read in chunks; an over-long line is reported without being held. */
async function* scanLines(fh: FileHandle, start: number, end: number): AsyncGenerator<ScannedLine, number> {
  const chunk = Buffer.allocUnsafe(readChunkBytes);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let isOversize = false;
  let position = start;
  let lineEnd = start;
  while (position < end) {
    const { bytesRead } = await fh.read(chunk, 0, Math.min(readChunkBytes, end - position), position);
    if (bytesRead === 0) break;
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(10, from);
      if (newline === -1 || newline >= bytesRead) break;
      const piece = chunk.subarray(from, newline);
      const size = pendingBytes + piece.length;
      const line = isOversize || size > maxOutboxLineBytes ? undefined : Buffer.concat([...pending, piece], size);
      lineEnd = position + newline + 1;
      pending = [];
      pendingBytes = 0;
      isOversize = false;
      yield { line, end: lineEnd };
      from = newline + 1;
    }
    if (from < bytesRead && !isOversize) {
      pendingBytes += bytesRead - from;
      if (pendingBytes > maxOutboxLineBytes) {
        isOversize = true;
        pending = [];
      } else {
        pending.push(Buffer.from(chunk.subarray(from, bytesRead)));
      }
    }
    position += bytesRead;
  }
  // Returns where the whole lines end: anything after it is a torn tail.
  return lineEnd;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `text` so that a crash leaves either the old or the new content, never a mix. */
async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  const path = join(dir, name);
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDirectory(dir);
}

function parseCursorFile(text: string): number | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const seq = (value as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}

async function readSmallFile(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > maxCursorFileBytes) return '';
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.jsonl`;
}

export async function openOutbox(dir: string, options: OutboxOptions): Promise<Outbox> {
  const maxBytes = options.maxBytes ?? defaultOutboxMaxBytes;
  const segmentBytes = options.segmentBytes ?? defaultOutboxSegmentBytes;
  if (!(segmentBytes > 0) || !(maxBytes >= 2 * segmentBytes)) {
    throw new NomineError('invalid-input', `the outbox needs maxBytes (${maxBytes}) of at least two segments (${segmentBytes} bytes each)`, `outbox ${dir}`);
  }
  for (const name of options.outputs) {
    if (!outputNamePattern.test(name)) {
      throw new NomineError('invalid-input', `output name "${name}" must be letters, digits, '.', '_' or '-' (it names a cursor file)`, `outbox ${dir}`);
    }
  }
  const part = `outbox ${dir}`;
  const segmentsDir = join(dir, 'segments');
  const cursorsDir = join(dir, 'cursors');
  try {
    await mkdir(segmentsDir, { recursive: true, mode: 0o700 });
    await mkdir(cursorsDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw toNomineError(error, part);
  }

  const outputs = [...new Set(options.outputs)];
  const cursors = new Map<string, number>();
  const segments: Segment[] = [];
  const hints = new Map<string, ReadHint>();
  let tornLines = 0;
  let corruptLines = 0;
  let corruptCursors = 0;
  let dropped = 0;
  let lastSeq = 0;
  let totalBytes = 0;
  let active: { segment: Segment; handle: FileHandle } | undefined;
  let isClosed = false;
  // Appends, acknowledgements and deletions run one at a time; reads run beside them (they never look past a
  // segment's synced bytes, and a segment deleted under a reader is simply skipped).
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  }

  // --- open: state, cursors, segments
  const stateText = await readSmallFile(join(dir, 'state.json'));
  if (stateText) {
    try {
      const value = (JSON.parse(stateText) as { dropped?: unknown } | null)?.dropped;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) dropped = value;
    } catch {
      // A damaged state file only loses the historical drop count.
    }
  }
  let highestCursor = 0;
  for (const entry of await readdir(cursorsDir)) {
    const path = join(cursorsDir, entry);
    if (entry.endsWith('.tmp')) {
      await rm(path, { force: true });
      continue;
    }
    if (!entry.endsWith('.json')) continue;
    const name = entry.slice(0, -'.json'.length);
    const seq = parseCursorFile((await readSmallFile(path)) ?? '');
    if (seq === undefined) {
      if (outputs.includes(name)) corruptCursors += 1;
      continue;
    }
    // Cursors of outputs no longer configured still say how far seqs went.
    highestCursor = Math.max(highestCursor, seq);
    if (outputs.includes(name)) cursors.set(name, seq);
  }
  for (const name of outputs) if (!cursors.has(name)) cursors.set(name, 0);
  for (const entry of await readdir(dir)) if (entry.endsWith('.tmp')) await rm(join(dir, entry), { force: true });

  const names = (await readdir(segmentsDir)).filter((n) => segmentNamePattern.test(n)).sort();
  // Names only order the segments; a new one is always named above every name seen, whatever the files hold.
  let highestName = names.length > 0 ? Number(segmentNamePattern.exec(names.at(-1)!)![1]) : 0;
  for (const name of names) {
    const path = join(segmentsDir, name);
    const handle = await open(path, 'r+');
    try {
      const size = (await handle.stat()).size;
      const segment: Segment = { path, firstSeq: 0, lastSeq: -1, records: 0, bytes: 0 };
      const lines = scanLines(handle, 0, size);
      let step = await lines.next();
      while (!step.done) {
        const record = step.value.line && parseOutboxRecord(step.value.line);
        if (record && record.seq > lastSeq) {
          if (segment.records === 0) segment.firstSeq = record.seq;
          segment.lastSeq = record.seq;
          segment.records += 1;
          lastSeq = record.seq;
        } else {
          corruptLines += 1;
        }
        step = await lines.next();
      }
      segment.bytes = step.value;
      if (segment.bytes < size) {
        tornLines += 1;
        await handle.truncate(segment.bytes);
        await handle.sync();
      }
      if (segment.records === 0) {
        await handle.close();
        await unlink(path);
        continue;
      }
      segments.push(segment);
      totalBytes += segment.bytes;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
  lastSeq = Math.max(lastSeq, highestCursor);

  const slowestCursor = () => (outputs.length === 0 ? Infinity : Math.min(...outputs.map((o) => cursors.get(o) ?? 0)));

  async function saveState(): Promise<void> {
    await writeFileAtomic(dir, 'state.json', `${JSON.stringify({ dropped })}\n`);
  }

  /** Deletes segments every output has passed (never the one being written). */
  async function deletePassed(): Promise<void> {
    const passed = slowestCursor();
    while (segments.length > 0 && segments[0]!.lastSeq <= passed && segments[0] !== active?.segment) {
      const segment = segments.shift()!;
      totalBytes -= segment.bytes;
      await unlink(segment.path).catch(() => undefined);
    }
  }

  /** Drops the oldest segments while the outbox is over its size, counting alerts some output did not have yet. */
  async function enforceSize(): Promise<void> {
    let lost = 0;
    while (totalBytes > maxBytes && segments.length > 1 && segments[0] !== active?.segment) {
      const segment = segments.shift()!;
      totalBytes -= segment.bytes;
      lost += Math.min(segment.records, Math.max(0, segment.lastSeq - slowestCursor()));
      await unlink(segment.path).catch(() => undefined);
    }
    if (lost > 0) {
      dropped += lost;
      await saveState();
    }
  }

  async function startSegment(): Promise<void> {
    if (active) await active.handle.close().catch(() => undefined);
    highestName = Math.max(highestName + 1, lastSeq + 1);
    const path = join(segmentsDir, segmentName(highestName));
    const handle = await open(path, 'wx', 0o600);
    const segment: Segment = { path, firstSeq: lastSeq + 1, lastSeq, records: 0, bytes: 0 };
    segments.push(segment);
    active = { segment, handle };
    await syncDirectory(segmentsDir);
  }

  await serial(async () => {
    await deletePassed();
    await enforceSize();
  });

  function assertOutput(name: string): void {
    if (!cursors.has(name)) throw new NomineError('internal', `output "${name}" was not registered with the outbox`, part);
  }

  return {
    append(alerts) {
      return serial(async () => {
        if (isClosed) throw new NomineError('conflict', 'the outbox is closed', part);
        if (alerts.length === 0) return lastSeq;
        const first = lastSeq + 1;
        const text = alerts.map((alert, i) => formatOutboxRecord({ seq: first + i, alert })).join('');
        const bytes = Buffer.from(text, 'utf8');
        try {
          if (!active || active.segment.bytes >= segmentBytes) await startSegment();
          const { segment, handle } = active!;
          let written = 0;
          while (written < bytes.length) {
            const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, segment.bytes + written);
            written += bytesWritten;
          }
          await handle.datasync();
          if (segment.records === 0) segment.firstSeq = first;
          segment.bytes += bytes.length;
          segment.records += alerts.length;
          segment.lastSeq = first + alerts.length - 1;
          totalBytes += bytes.length;
          lastSeq = segment.lastSeq;
        } catch (error) {
          // Cut the partial batch off (best effort) and start a fresh segment next time, so no later line is glued
          // to a torn one; whatever stays is cut when the outbox is next opened.
          if (active) {
            await active.handle.truncate(active.segment.bytes).catch(() => undefined);
            await active.handle.close().catch(() => undefined);
            if (active.segment.records === 0) {
              segments.splice(segments.indexOf(active.segment), 1);
              await unlink(active.segment.path).catch(() => undefined);
            }
            active = undefined;
          }
          throw toNomineError(error, part);
        }
        await enforceSize();
        return lastSeq;
      });
    },

    async read(output, afterSeq, max) {
      assertOutput(output);
      const out: OutboxRecord[] = [];
      const hint = hints.get(output);
      for (const segment of [...segments]) {
        if (out.length >= max) break;
        if (segment.lastSeq <= afterSeq || segment.bytes === 0) continue;
        const start = hint && hint.segment === segment && hint.nextSeq === afterSeq + 1 ? hint.offset : 0;
        let handle: FileHandle;
        try {
          handle = await open(segment.path, 'r');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // dropped meanwhile
          throw toNomineError(error, part);
        }
        try {
          let offset = start;
          for await (const { line, end } of scanLines(handle, start, segment.bytes)) {
            offset = end;
            const record = line && parseOutboxRecord(line);
            // Seqs only grow: a record that does not is one of the corrupt lines counted on open.
            if (!record || record.seq <= (out.at(-1)?.seq ?? afterSeq)) continue;
            out.push(record);
            if (out.length >= max) break;
          }
          const last = out.at(-1);
          if (last) hints.set(output, { segment, offset, nextSeq: last.seq + 1 });
        } finally {
          await handle.close();
        }
      }
      return out;
    },

    cursor(output) {
      assertOutput(output);
      return cursors.get(output)!;
    },

    acknowledge(output, seq) {
      assertOutput(output);
      return serial(async () => {
        if (seq <= cursors.get(output)!) return;
        cursors.set(output, seq);
        try {
          await writeFileAtomic(cursorsDir, `${output}.json`, `${JSON.stringify({ seq })}\n`);
          await deletePassed();
        } catch (error) {
          throw toNomineError(error, part);
        }
      });
    },

    get lastSeq() {
      return lastSeq;
    },

    stats: () => ({
      segments: segments.length,
      bytes: totalBytes,
      lastSeq,
      dropped,
      tornLines,
      corruptLines,
      corruptCursors,
      cursors: Object.fromEntries(cursors),
    }),

    close() {
      return serial(async () => {
        if (isClosed) return;
        isClosed = true;
        if (!active) return;
        await active.handle.close().catch(() => undefined);
        active = undefined;
        // The segment being written is no longer protected: when every output has it, it goes too.
        await deletePassed();
      });
    },
  };
}
