/**
 * The ingest sensor: events from sensors people already run (Falco's JSON alerts, Tetragon's JSON export), read
 * from a file, stdin or HTTP as JSON lines and mapped to RawEvents by a pure mapper per format. A line that is not
 * JSON, or that the mapper cannot use, is counted and reported with its line number; the first
 * `maxReportedProblems` are reported one by one, the rest only in the counts.
 */
import type { RawEvent, SensorName } from '../event.ts';
import type { Sensor, SensorAvailability, SensorContext } from '../sensor.ts';
import { mapFalcoEvent } from './falco-json.ts';
import { type HttpInputOptions, type JsonLineProblem, type JsonLinesOptions, type JsonLinesSource, type LineOrigin, readJsonLines, whyUnavailable } from './json-lines-input.ts';
import { mapTetragonEvent } from './tetragon-json.ts';

/** What a mapper makes of one JSON value: events, a reason it carries none nomine maps, or what is wrong with it. */
export type MapResult = { events: RawEvent[] } | { skipped: string } | { error: string };
/** Pure: the same value and `now` (the time to use when the value has none) give the same result. */
export type EventMapper = (json: unknown, now: number) => MapResult;

export const ingestMappers = { falco: mapFalcoEvent, tetragon: mapTetragonEvent } satisfies Record<string, EventMapper>;
export type IngestFormat = keyof typeof ingestMappers;

/** Problems reported one by one before only counting them, so a stream of garbage cannot flood the status. */
export const maxReportedProblems = 100;
/** Distinct skip reasons kept; further reasons are counted under `other`. */
const maxSkipReasons = 64;

const formatNames: Record<IngestFormat, string> = { falco: 'Falco JSON', tetragon: 'Tetragon JSON' };

export type IngestInput = { file: string; follow?: boolean } | { stdin: true } | { http: HttpInputOptions };

export interface IngestSensorOptions {
  format: IngestFormat;
  input: IngestInput;
  /** Milliseconds since the epoch, for values that carry no time. */
  clock?: () => number;
  /** Told where the HTTP input listens (useful with port 0). */
  onListening?: (address: { host: string; port: number }) => void;
  /** Limits and test hooks of the line reader. */
  reader?: JsonLinesOptions;
}

export interface IngestStats {
  /** JSON values read. */
  values: number;
  events: number;
  /** Lines that were not JSON. */
  malformed: number;
  /** Lines longer than the line limit, or HTTP bodies larger than the body limit. */
  oversized: number;
  /** HTTP requests refused (bad token, wrong method). */
  refused: number;
  /** Values the mapper rejected as broken (wrong types, missing pid, bad address). */
  invalid: number;
  /** Values that carry no event nomine maps, by reason. */
  skipped: Record<string, number>;
}

export interface IngestSensor extends Sensor {
  stats(): IngestStats;
}

export function createIngestSensor(options: IngestSensorOptions): IngestSensor {
  const { format, input } = options;
  const map: EventMapper = ingestMappers[format];
  const clock = options.clock ?? Date.now;
  const source: JsonLinesSource = input;
  const stats: IngestStats = { values: 0, events: 0, malformed: 0, oversized: 0, refused: 0, invalid: 0, skipped: {} };
  let reported = 0;
  const name: SensorName = format;

  const describeInput = (): string => {
    if ('file' in input) return `${input.file}${input.follow ? ' (following)' : ''}`;
    if ('stdin' in input) return 'stdin';
    return `HTTP on ${input.http.host ?? '127.0.0.1'}:${input.http.port}`;
  };

  return {
    name,
    stats: () => ({ ...stats, skipped: { ...stats.skipped } }),

    async available(): Promise<SensorAvailability> {
      const reason = await whyUnavailable(source);
      return reason === undefined ? { ok: true } : { ok: false, reason };
    },

    async start(context: SensorContext): Promise<void> {
      const report = (problem: string) => {
        reported += 1;
        if (reported <= maxReportedProblems) context.onStatus({ kind: 'warning', message: problem });
        if (reported === maxReportedProblems) {
          context.onStatus({ kind: 'warning', message: `more problems are only counted (first ${maxReportedProblems} reported)` });
        }
      };
      const where = (at: Partial<LineOrigin> & { origin: string }) => (at.line === undefined ? at.origin : `${at.origin} line ${at.line}`);

      const onValue = (value: unknown, at: LineOrigin) => {
        stats.values += 1;
        const result = map(value, clock());
        if ('events' in result) {
          for (const event of result.events) {
            stats.events += 1;
            context.sink(event);
          }
        } else if ('skipped' in result) {
          const known = Object.hasOwn(stats.skipped, result.skipped) || Object.keys(stats.skipped).length < maxSkipReasons;
          const reason = known ? result.skipped : 'other';
          stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
        } else {
          stats.invalid += 1;
          report(`${where(at)}: ${result.error}`);
        }
      };
      const onProblem = (problem: JsonLineProblem) => {
        if (problem.kind === 'malformed') stats.malformed += 1;
        else if (problem.kind === 'oversized') stats.oversized += 1;
        else stats.refused += 1;
        report(`${where(problem)}: ${problem.message}`);
      };

      context.onStatus({ kind: 'started', message: `reading ${formatNames[format]} from ${describeInput()}` });
      await readJsonLines(
        source,
        {
          value: onValue,
          problem: onProblem,
          notice: (message) => context.onStatus({ kind: 'warning', message }),
          listening: (address) => {
            context.onStatus({ kind: 'started', message: `accepting ${formatNames[format]} at http://${address.host}:${address.port}/` });
            options.onListening?.(address);
          },
        },
        context.signal,
        options.reader,
      );
      context.onStatus({ kind: 'stopped', message: summary(stats) });
    },
  };
}

function summary(stats: IngestStats): string {
  const skipped = Object.values(stats.skipped).reduce((sum, count) => sum + count, 0);
  const parts = [`${stats.events} events from ${stats.values} values`];
  if (skipped > 0) parts.push(`${skipped} skipped`);
  if (stats.invalid > 0) parts.push(`${stats.invalid} invalid`);
  if (stats.malformed > 0) parts.push(`${stats.malformed} malformed lines`);
  if (stats.oversized > 0) parts.push(`${stats.oversized} oversized`);
  if (stats.refused > 0) parts.push(`${stats.refused} refused requests`);
  return parts.join(', ');
}
