/**
 * The agent's core, shared by `agent watch` and `agent run`: the entity registry over Docker and containerd, the
 * chosen sensor plus the CPU sampler, and the event pipeline between them. What to do with each event is the
 * caller's (print it, or learn and judge it).
 */
import type { Entity } from './entity.ts';
import { createEntityRegistry, type EntityRegistry } from './entity-registry.ts';
import type { RawEvent, RuntimeEvent } from './event.ts';
import { createEventPipeline, type EventPipeline } from './event-pipeline.ts';
import { createExeHasher } from './exe-hasher.ts';
import { chooseSensor, type ChooseSensorOptions, type SensorChoice, type SensorSelection } from './choose-sensor.ts';
import { createCpuSampler } from './cpu-sampler.ts';
import { readHostNamespaceInodes } from './namespace-inode.ts';
import { createContainerdRuntime } from './runtimes/containerd-runtime.ts';
import type { BpftraceSensor, BpftraceSensorOptions } from './sensors/bpftrace-sensor.ts';
import { createDockerRuntime } from './runtimes/docker-runtime.ts';
import type { RuntimeStatus } from './runtimes/runtime.ts';
import type { Sensor, SensorStatus } from './sensor.ts';

export interface AgentCoreOptions {
  sensor: SensorChoice;
  sensorOptions?: Omit<ChooseSensorOptions, 'hasher'>;
  queueCapacity: number;
  /** CPU sample interval; 0 turns CPU sampling off. */
  cpuIntervalMs: number;
  dockerSocket?: string;
  containerdRoots?: string[];
  onEvent: (event: RuntimeEvent) => void | Promise<void>;
  /** Sees every exec before the queue: the exec gate of prevent mode (exec-gate.ts). */
  execGate?: (raw: RawEvent) => void;
  /** With the eBPF sensor: kill connects to these ports in the kernel for enforcing (prevent/stop) workloads. */
  kernelKill?: { ports: number[]; byDefault: boolean };
  onSensorStatus: (sensor: Sensor, status: SensorStatus) => void;
  onRuntimeStatus: (runtime: string, status: RuntimeStatus) => void;
}

export interface AgentCore {
  registry: EntityRegistry;
  pipeline: EventPipeline;
  selection: SensorSelection;
  /** In-kernel connect kill for an entity's namespace, when the sensor is eBPF with kernelKill. */
  setKernelEnforcement(entity: Entity, enforce: boolean): void;
  /** Runs until the signal aborts. */
  run(signal: AbortSignal): Promise<void>;
}

export function createRegistry(options: { dockerSocket?: string; containerdRoots?: string[]; onStatus?: (runtime: string, status: RuntimeStatus) => void }): EntityRegistry {
  return createEntityRegistry({
    runtimes: [createDockerRuntime(options.dockerSocket ? { socketPath: options.dockerSocket } : {}), createContainerdRuntime(options.containerdRoots ? { roots: options.containerdRoots } : {})],
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
  });
}

export async function createAgentCore(options: AgentCoreOptions): Promise<AgentCore> {
  const hasher = createExeHasher();
  const host = await readHostNamespaceInodes();
  const ebpf: BpftraceSensorOptions | undefined = options.kernelKill?.ports.length
    ? { killOnConnectPorts: options.kernelKill.ports, killControl: true, ...(options.kernelKill.byDefault && host.mntns ? { killByDefault: true, hostMntns: host.mntns } : {}) }
    : undefined;
  const selection = await chooseSensor(options.sensor, { ...options.sensorOptions, ...(ebpf ? { ebpf } : {}), hasher });
  const registry = createRegistry({ ...options, onStatus: options.onRuntimeStatus });
  const ingesting = options.sensor === 'falco' || options.sensor === 'tetragon';
  const producers = [];
  if (options.cpuIntervalMs > 0 && !ingesting) {
    const sampler = createCpuSampler({ intervalMs: options.cpuIntervalMs, entities: () => registry.entities() as Iterable<Entity> });
    producers.push((sink: (event: RawEvent) => void, signal: AbortSignal) => sampler.run(sink, signal));
  }
  const pipeline = createEventPipeline({
    sensors: [selection.sensor],
    registry,
    hasher,
    queueCapacity: options.queueCapacity,
    onEvent: options.onEvent,
    ...(options.execGate ? { execGate: options.execGate } : {}),
    onSensorStatus: options.onSensorStatus,
    producers,
  });
  const kernelSensor = ebpf && selection.sensor.name === 'ebpf' ? (selection.sensor as BpftraceSensor) : undefined;
  return {
    registry,
    pipeline,
    selection,
    setKernelEnforcement(entity, enforce) {
      if (!kernelSensor || entity.runtime === 'host' || entity.mntns === undefined || entity.mntns === host.mntns) return;
      kernelSensor.setConnectKill(entity.mntns, enforce ? 'enforce' : options.kernelKill?.byDefault ? 'exempt' : 'clear');
    },
    async run(signal) {
      await registry.start(signal);
      await pipeline.run(signal);
      await registry.stopped();
    },
  };
}
