/**
 * Sensor selection: eBPF when the machine allows it (root, bpftrace, tracefs, BTF), else /proc polling, or the
 * ingestion of Falco/Tetragon events when the user names one. The choice and its reason are printed at start, so
 * a user never wonders why short-lived processes are missing (the /proc sensor cannot see them).
 */
import { NomineError } from '../core/errors.ts';
import type { ExeHasher } from './exe-hasher.ts';
import type { Sensor } from './sensor.ts';
import { createBpftraceSensor, type BpftraceSensorOptions } from './sensors/bpftrace-sensor.ts';
import { createIngestSensor, type IngestInput } from './sensors/ingest-sensor.ts';
import { createProcfsSensor } from './sensors/procfs-sensor.ts';

export const sensorChoices = ['auto', 'ebpf', 'procfs', 'falco', 'tetragon'] as const;
export type SensorChoice = (typeof sensorChoices)[number];

export interface SensorSelection {
  sensor: Sensor;
  reason: string;
}

export interface ChooseSensorOptions {
  hasher: ExeHasher;
  ebpf?: BpftraceSensorOptions;
  procfsPollMs?: number;
  /** Input for falco/tetragon ingestion. */
  ingest?: IngestInput;
  onListening?: (address: { host: string; port: number }) => void;
}

export async function chooseSensor(choice: SensorChoice, options: ChooseSensorOptions): Promise<SensorSelection> {
  if (choice === 'falco' || choice === 'tetragon') {
    if (!options.ingest) throw new NomineError('invalid-input', `--sensor ${choice} needs an input: --input FILE, --input - (stdin) or --listen HOST:PORT`, 'agent');
    const sensor = createIngestSensor({ format: choice, input: options.ingest, ...(options.onListening ? { onListening: options.onListening } : {}) });
    const availability = await sensor.available();
    if (!availability.ok) throw new NomineError('unreachable', `the ${choice} input is not usable: ${availability.reason}`, 'agent');
    return { sensor, reason: `ingesting ${choice === 'falco' ? 'Falco' : 'Tetragon'} JSON events, as asked` };
  }
  const procfs = () => createProcfsSensor({ hasher: options.hasher, ...(options.procfsPollMs ? { pollIntervalMs: options.procfsPollMs } : {}) });
  if (choice === 'procfs') return { sensor: procfs(), reason: '/proc polling, as asked (short-lived processes and connections between polls are missed)' };
  const ebpf = createBpftraceSensor(options.ebpf);
  const availability = await ebpf.available();
  if (availability.ok) return { sensor: ebpf, reason: choice === 'ebpf' ? 'eBPF through bpftrace, as asked' : 'eBPF through bpftrace (available: root, bpftrace, tracefs, BTF)' };
  if (choice === 'ebpf') throw new NomineError('unsupported', `the eBPF sensor is not available here: ${availability.reason}`, 'agent');
  return { sensor: procfs(), reason: `/proc polling, because eBPF is not available (${availability.reason}); short-lived processes and connections between polls are missed` };
}
