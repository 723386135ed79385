/**
 * Reading a stored profile document (src/profile/profile.ts) for display. The documents come from agents, possibly
 * of another version, so reading is lenient and bounded: a malformed entry is skipped and named in `problems`,
 * never a failed page; strings are cut to a display length.
 */
import { z } from 'zod';
import { isJsonObject } from './json-object.ts';

/** Entries of one list shown at most; agents bound their profiles far below this. */
export const maxEntriesPerList = 5_000;
const maxText = 4_096;

const label = z.string().transform((value) => value.slice(0, maxText));
/** Epoch milliseconds a Date can hold: anything larger would make toISOString throw. */
export const maxEpochMs = 8.64e15;
const learned = { source: z.string().max(32).catch('learned'), firstSeen: z.number().nonnegative().max(maxEpochMs).optional().catch(undefined) };
const port = z.number().int().min(0).max(65_535);

const entrySchemas = {
  processes: z.object({ exe: label, sha256: z.array(label).max(64).catch([]), parents: z.array(label).max(64).catch([]), ...learned }),
  egress: z.object({ address: label, port, protocol: z.string().max(16).catch('tcp'), ...learned }),
  listen: z.object({ port, protocol: z.string().max(16).catch('tcp'), ...learned }),
  fileWrites: z.object({ pattern: label, ...learned }),
};

export type EntryKind = keyof typeof entrySchemas;
export type ProcessEntry = z.infer<(typeof entrySchemas)['processes']>;
export type EgressEntry = z.infer<(typeof entrySchemas)['egress']>;
export type ListenEntry = z.infer<(typeof entrySchemas)['listen']>;
export type FileWriteEntry = z.infer<(typeof entrySchemas)['fileWrites']>;

export interface CpuReading {
  quantileCores: number;
  samples: number;
  bucketCores: number;
  histogram: number[];
}

export interface ProfileReading {
  mode: string | undefined;
  phase: string | undefined;
  learningStartedAt: number | undefined;
  enforcingSince: number | undefined;
  processes: ProcessEntry[];
  egress: EgressEntry[];
  listen: ListenEntry[];
  fileWrites: FileWriteEntry[];
  /** undefined: the sensor gives no syscall data. */
  syscalls: string[] | undefined;
  cpu: CpuReading;
  problems: string[];
}

const finite = z.number().finite().nonnegative();
const cpuSchema = z.object({
  quantileCores: finite.catch(0),
  samples: finite.catch(0),
  bucketCores: finite.catch(0),
  histogram: z.array(finite).max(10_000).catch([]),
});

/** A profile document as JSON text, or already parsed; `what` names it in problems (`profile wl-ab12`, `node n1`). */
export function readProfileDocument(document: unknown, what: string): ProfileReading {
  const problems: string[] = [];
  let value = document;
  if (typeof document === 'string') {
    try {
      value = JSON.parse(document);
    } catch {
      value = undefined;
    }
  }
  const profile = isJsonObject(value) ? value : {};
  if (!isJsonObject(value)) problems.push(`${what}: the stored document is not a JSON object`);
  const allow = isJsonObject(profile.allow) ? profile.allow : {};
  if (isJsonObject(value) && !isJsonObject(profile.allow)) problems.push(`${what}: the document has no allow-list`);
  const listOf = <K extends EntryKind>(kind: K): z.infer<(typeof entrySchemas)[K]>[] => {
    const raw = allow[kind];
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      problems.push(`${what}: allow.${kind} is not a list`);
      return [];
    }
    if (raw.length > maxEntriesPerList) problems.push(`${what}: allow.${kind} has ${raw.length} entries; the first ${maxEntriesPerList} are shown`);
    const entries: z.infer<(typeof entrySchemas)[K]>[] = [];
    let skipped = 0;
    for (const item of raw.slice(0, maxEntriesPerList)) {
      const parsed = entrySchemas[kind].safeParse(item);
      if (parsed.success) entries.push(parsed.data as z.infer<(typeof entrySchemas)[K]>);
      else skipped += 1;
    }
    if (skipped > 0) problems.push(`${what}: ${skipped} malformed ${skipped === 1 ? 'entry' : 'entries'} in allow.${kind} skipped`);
    return entries;
  };
  let syscalls: string[] | undefined;
  if (Array.isArray(allow.syscalls)) syscalls = allow.syscalls.filter((name): name is string => typeof name === 'string' && name.length <= 64).slice(0, maxEntriesPerList);
  else if (allow.syscalls !== undefined) problems.push(`${what}: allow.syscalls is not a list`);
  return {
    mode: typeof profile.mode === 'string' ? profile.mode : undefined,
    phase: typeof profile.phase === 'string' ? profile.phase : undefined,
    learningStartedAt: finiteNumber(profile.learningStartedAt),
    enforcingSince: finiteNumber(profile.enforcingSince),
    processes: listOf('processes'),
    egress: listOf('egress'),
    listen: listOf('listen'),
    fileWrites: listOf('fileWrites'),
    syscalls,
    cpu: cpuSchema.catch({ quantileCores: 0, samples: 0, bucketCores: 0, histogram: [] }).parse(allow.cpu ?? {}),
    problems,
  };
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && value >= 0 && value <= maxEpochMs ? value : undefined;
}
