/**
 * `nomine agent`: the runtime layer. `entities` lists what runs on the node, `watch` streams what the sensors see
 * (like `tetra getevents`), `run` learns a profile per workload and enforces it, `status` reads a running agent's
 * counters. The sensor is chosen automatically (eBPF, else /proc) unless `--sensor` says otherwise.
 */
import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createAgentCore, createRegistry } from '../../agent/agent-core.ts';
import { readAgentStatus } from '../../agent/agent-status.ts';
import { sensorChoices, type SensorChoice } from '../../agent/choose-sensor.ts';
import type { Entity } from '../../agent/entity.ts';
import { eventTypes, type EventType } from '../../agent/event-types.ts';
import type { IngestInput } from '../../agent/sensors/ingest-sensor.ts';
import { NomineError } from '../../core/errors.ts';
import { resolveDataHome } from '../../platform/data-home.ts';
import { formatEventLine } from '../../report/event-line.ts';
import { agentEnrolCommand } from './agent-enrol.ts';
import { agentRunCommand } from './agent-run.ts';
import { positiveInteger } from '../integer-option.ts';

export interface SensorFlags {
  sensor: SensorChoice;
  input?: string;
  follow?: boolean;
  listen?: string;
  tokenFile?: string;
  pollMs?: number;
  queue: number;
  cpuInterval: number;
  dockerSocket?: string;
}

/** The sensor options `watch` and `run` share. */
export function addSensorOptions(command: Command): Command {
  return command
    .addOption(new Option('--sensor <sensor>', 'event source: auto picks eBPF when available, else /proc').choices([...sensorChoices]).default('auto'))
    .option('--input <file>', 'with --sensor falco|tetragon: read JSON lines from FILE, or - for stdin')
    .option('--follow', 'with --input FILE: keep reading as the file grows (like tail -F)')
    .option('--listen <host:port>', 'with --sensor falco|tetragon: accept JSON lines POSTed to http://HOST:PORT/ (needs --token-file)')
    .option('--token-file <file>', 'file holding the bearer token --listen requires')
    .option('--poll-ms <ms>', 'with the /proc sensor: poll interval', positiveInteger('--poll-ms', 10, 60_000))
    .option('--queue <n>', 'events held between the sensor and processing; a burst beyond it is dropped and counted', positiveInteger('--queue', 16, 10_000_000), 65_536)
    .option('--cpu-interval <ms>', 'CPU sample interval per entity (0: off)', positiveInteger('--cpu-interval', 0, 3_600_000), 5_000)
    .option('--docker-socket <path>', 'Docker Engine socket (default $DOCKER_HOST or /var/run/docker.sock)');
}

export function ingestInputOf(flags: SensorFlags): IngestInput | undefined {
  if (flags.listen) {
    const match = /^(.+):(\d{1,5})$/.exec(flags.listen);
    if (!match) throw new NomineError('invalid-input', `--listen must be HOST:PORT, got ${flags.listen}`, 'agent');
    if (!flags.tokenFile) throw new NomineError('invalid-input', '--listen needs --token-file: the HTTP input never runs without authentication', 'agent');
    const token = readFileSync(flags.tokenFile, 'utf8').trim();
    if (token.length < 16) throw new NomineError('invalid-input', 'the token in --token-file must be at least 16 characters', flags.tokenFile);
    return { http: { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]), token } };
  }
  if (flags.input === '-') return { stdin: true };
  if (flags.input) return { file: flags.input, ...(flags.follow ? { follow: true } : {}) };
  return undefined;
}

function entityRow(entity: Entity): string[] {
  const k8s = entity.kubernetes ? `${entity.kubernetes.namespace}/${entity.kubernetes.pod}${entity.kubernetes.workload ? ` (${entity.kubernetes.workload.kind} ${entity.kubernetes.workload.name})` : ''}` : '';
  return [
    entity.id === 'host' ? 'host' : entity.id.slice(0, 12),
    entity.name,
    entity.runtime,
    entity.image ?? '',
    entity.imageDigest ? entity.imageDigest.slice(0, 19) : '',
    entity.pid ? String(entity.pid) : '',
    entity.mntns ? String(entity.mntns) : '',
    entity.startedAt ? new Date(entity.startedAt).toISOString().replace('.000Z', 'Z') : '',
    k8s,
  ];
}

function entitiesCommand(): Command {
  return new Command('entities')
    .description('list every entity on this node: containers (Docker and containerd) and the host')
    .option('--json', 'print JSON')
    .option('--docker-socket <path>', 'Docker Engine socket (default $DOCKER_HOST or /var/run/docker.sock)')
    .action(async (flags: { json?: boolean; dockerSocket?: string }) => {
      const problems: string[] = [];
      const registry = createRegistry({ ...(flags.dockerSocket ? { dockerSocket: flags.dockerSocket } : {}), onStatus: (runtime, status) => status.kind !== 'connected' && problems.push(`${runtime}: ${status.message}`) });
      const controller = new AbortController();
      await registry.start(controller.signal);
      const entities = registry.entities();
      controller.abort();
      await registry.stopped();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ entities, problems }, null, 2)}\n`);
        return;
      }
      const table = new Table({ head: ['id', 'name', 'runtime', 'image', 'image digest', 'pid', 'mnt ns', 'started', 'kubernetes'], style: process.stdout.isTTY ? { head: ['bold'] } : { head: [], border: [] } });
      for (const entity of entities) table.push(entityRow(entity));
      process.stdout.write(`${table.toString()}\n`);
      for (const problem of problems) process.stderr.write(`nomine agent: ${problem}\n`);
    });
}

function eventTypeList(value: string): EventType[] {
  const types = value.split(',').map((type) => type.trim());
  for (const type of types) if (!(eventTypes as readonly string[]).includes(type)) throw new InvalidArgumentError(`unknown event type ${type} (one of ${eventTypes.join(', ')})`);
  return types as EventType[];
}

function watchCommand(): Command {
  return addSensorOptions(new Command('watch'))
    .description('stream the events the agent sees, attributed to their entity (table lines, or JSON lines with --json)')
    .option('--json', 'print one JSON object per event')
    .option('--entity <name>', 'only events of entities whose name, id prefix or workload contains this')
    .option('--types <list>', `only these event types (${'exec,exit,connect,accept,listen,file-write,cpu-sample,syscalls'})`, eventTypeList)
    .option('--duration <seconds>', 'stop after this many seconds', positiveInteger('--duration', 1))
    .action(async (flags: SensorFlags & { json?: boolean; entity?: string; types?: EventType[]; duration?: number }) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const color = !flags.json && Boolean(process.stdout.isTTY);
      const ingest = ingestInputOf(flags);
      const core = await createAgentCore({
        sensor: flags.sensor,
        sensorOptions: { ...(ingest ? { ingest } : {}), ...(flags.pollMs ? { procfsPollMs: flags.pollMs } : {}), onListening: (address) => process.stderr.write(`nomine agent: listening for events on http://${address.host}:${address.port}/\n`) },
        queueCapacity: flags.queue,
        cpuIntervalMs: flags.cpuInterval,
        ...(flags.dockerSocket ? { dockerSocket: flags.dockerSocket } : {}),
        onRuntimeStatus: (runtime, status) => process.stderr.write(`nomine agent: ${runtime} ${status.kind}: ${status.message}\n`),
        onSensorStatus: (sensor, status) => process.stderr.write(`nomine agent: sensor ${sensor.name} ${status.kind}: ${status.message}\n`),
        onEvent: (event) => {
          if (flags.types && !flags.types.includes(event.type)) return;
          const entity = core.registry.byId(event.entityId);
          const name = entity?.name ?? event.entityId;
          if (flags.entity && !name.includes(flags.entity) && !event.entityId.startsWith(flags.entity) && !entity?.kubernetes?.workload?.name.includes(flags.entity)) return;
          process.stdout.write(flags.json ? `${JSON.stringify({ ...event, entityName: name })}\n` : `${formatEventLine(event, name, color)}\n`);
        },
      });
      process.stderr.write(`nomine agent: sensor ${core.selection.sensor.name}: ${core.selection.reason}\n`);
      const timer = flags.duration ? setTimeout(stop, flags.duration * 1000) : undefined;
      try {
        await core.run(controller.signal);
      } finally {
        if (timer) clearTimeout(timer);
        const stats = core.pipeline.stats();
        process.stderr.write(`nomine agent: ${stats.processed} events, ${stats.queue.dropped} dropped (queue full), ${stats.attribution.droppedUnattributed + stats.attribution.droppedOverflow} unattributed\n`);
      }
    });
}

function statusCommand(): Command {
  return new Command('status')
    .description("show a running agent's sensor, queue, drop and alert counters (read from $NOMINE_HOME/agent/status.json)")
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const status = readAgentStatus(resolveDataHome());
      const ageSeconds = Math.round((Date.now() - status.updatedAt) / 1000);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...status, ageSeconds }, null, 2)}\n`);
        return;
      }
      const lines = [
        `agent pid ${status.pid}, up since ${new Date(status.startedAt).toISOString()}, status ${ageSeconds} s old${ageSeconds > 30 ? ' (stale: is the agent still running?)' : ''}`,
        `sensor ${status.sensor.name} (${status.sensor.state}): ${status.sensor.reason}; ${status.sensor.restarts} restarts, ${status.sensor.lostEvents} events lost in the kernel`,
        `queue ${status.queue.depth}/${status.queue.capacity} (high water ${status.queue.highWater}), ${status.queue.dropped} dropped${Object.keys(status.queue.droppedByKind).length ? ` (${Object.entries(status.queue.droppedByKind).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
        `events processed ${status.events.processed}: ${Object.entries(status.events.byType).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `entities ${status.entities}; runtimes ${Object.entries(status.runtimes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      ];
      if (status.profiles) lines.push(`profiles ${status.profiles.total}: ${status.profiles.learning} learning, ${status.profiles.enforcing} enforcing`);
      if (status.alerts) lines.push(`alerts ${JSON.stringify(status.alerts)}`);
      if (status.console) {
        const link = status.console;
        lines.push(`console ${link.server}: ${link.batches} batches, ${link.refused} refused, synced to revision ${link.syncedRevision} (${link.profilesApplied} profiles applied)${link.isFailing ? `; failing: ${link.lastError ?? 'unknown'}` : ''}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('runtime protection: discover entities, watch what they do, learn a profile per workload and enforce it')
    .addCommand(entitiesCommand())
    .addCommand(watchCommand())
    .addCommand(agentRunCommand())
    .addCommand(agentEnrolCommand())
    .addCommand(statusCommand());
}
