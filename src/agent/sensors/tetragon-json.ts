/**
 * Tetragon's JSON events as RawEvents. `tetra getevents -o json` and Tetragon's export file write one
 * GetEventsResponse per line in protojson: one event key (`process_exec`, `process_exit`, `process_kprobe`,
 * `process_tracepoint`, …) beside `node_name` and `time`. Every event carries the acting `process` (pid from the
 * host pid namespace, uid, binary, arguments, `docker` container id prefix, `pod`, `ns` when enabled); kprobe
 * events carry the arguments their TracingPolicy asked for, so connect, listen, accept and file writes come from
 * the kprobes the policy hooks. Tetragon does not hash executables in exec events, so sha256 stays unset.
 */
import { isIP } from 'node:net';
import type { AddressFamily, ConnectBody, EventBody, ProcessContext, Protocol, RawEvent } from '../event.ts';
import type { MapResult } from './ingest-sensor.ts';
import { containerIdPattern, describeType, eventTime, FieldError, integerField, isRecord, type JsonObject as Json, maxPid, maxUint32, own, printable, stringField, unknownId } from './json-fields.ts';

/** Kprobe arguments read at most: a TracingPolicy lists a handful; more is not an event Tetragon wrote. */
const maxKprobeArgs = 64;

/** Event keys of GetEventsResponse that carry no runtime event nomine maps. */
const unmappedEventKeys = new Set([
  'process_tracepoint',
  'process_lsm',
  'process_uprobe',
  'process_usdt',
  'process_loader',
  'process_throttle',
  'process_dns',
  'rate_limit_info',
  'test',
]);

/** Linux MAY_WRITE and MAY_APPEND: the access mask of security_file_permission that means a write. */
const mayWrite = 0x2;
const mayAppend = 0x8;
const writeFlags = new Set(['O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC']);
/** Runtime prefix of Kubernetes container ids (`containerd://`, `docker://`, `cri-o://`). */
const runtimePrefix = /^[a-z][a-z0-9.+-]*:\/\//;

export function mapTetragonEvent(json: unknown, now: number): MapResult {
  try {
    return mapResponse(json, now);
  } catch (error) {
    if (error instanceof FieldError) return { error: error.message };
    throw error;
  }
}

function mapResponse(json: unknown, now: number): MapResult {
  if (!isRecord(json)) return { error: `a Tetragon event is a JSON object, not ${describeType(json)}` };
  const exec = own(json, 'process_exec');
  if (exec !== undefined) return mapEvent(json, now, exec, 'process_exec', execBody);
  const exit = own(json, 'process_exit');
  if (exit !== undefined) return mapEvent(json, now, exit, 'process_exit', exitBody);
  const kprobe = own(json, 'process_kprobe');
  if (kprobe !== undefined) return mapEvent(json, now, kprobe, 'process_kprobe', kprobeBody);
  for (const key of Object.keys(json)) {
    if (unmappedEventKeys.has(key)) {
      const detail = key === 'process_tracepoint' ? tracepointName(own(json, key)) : '';
      return { skipped: `${key}${detail} is not mapped` };
    }
  }
  if (own(json, 'node_name') !== undefined || own(json, 'time') !== undefined) {
    return { skipped: 'a Tetragon event of a type nomine does not know' };
  }
  return { error: 'not a Tetragon event: no process_exec, process_exit or process_kprobe key' };
}

type BodyOf = (event: Json, process: Json) => { body: EventBody } | { skipped: string };

function mapEvent(json: Json, now: number, value: unknown, key: string, bodyOf: BodyOf): MapResult {
  if (!isRecord(value)) throw new FieldError(`${key} is ${describeType(value)}, not an object`);
  const process = own(value, 'process');
  if (!isRecord(process)) throw new FieldError(`${key}.process is missing or not an object`);
  const body = bodyOf(value, process);
  if ('skipped' in body) return body;
  const binary = stringField(process, 'binary', 'process.binary');
  const event = { at: eventTime(json, now), sensor: 'tetragon', ...(binary ? { comm: binary } : {}), ...processContext(process), ...body.body } as RawEvent;
  return { events: [event] };
}

function processContext(process: Json): ProcessContext {
  const pid = integerField(process, 'pid', 1, maxPid, 'process.pid');
  if (pid === undefined) throw new FieldError('process.pid is missing');
  const context: ProcessContext = { pid };
  const containerId = containerIdOf(process);
  if (containerId !== undefined) context.containerId = containerId;
  const pod = own(process, 'pod');
  if (pod !== undefined && pod !== null) {
    if (!isRecord(pod)) throw new FieldError(`process.pod is ${describeType(pod)}, not an object`);
    const namespace = stringField(pod, 'namespace', 'process.pod.namespace');
    const name = stringField(pod, 'name', 'process.pod.name');
    const container = own(pod, 'container');
    const containerName = isRecord(container) ? stringField(container, 'name', 'process.pod.container.name') : undefined;
    if (namespace && name) context.pod = { namespace, name, ...(containerName ? { container: containerName } : {}) };
  }
  // Present when Tetragon runs with --enable-process-ns.
  const ns = own(process, 'ns');
  if (isRecord(ns)) {
    const mntns = namespaceInode(ns, 'mnt');
    const pidns = namespaceInode(ns, 'pid');
    if (mntns !== undefined) context.mntns = mntns;
    if (pidns !== undefined) context.pidns = pidns;
  }
  return context;
}

/** The full id from pod.container.id when Tetragon knows the pod, else the `docker` prefix; none on the host. */
function containerIdOf(process: Json): string | undefined {
  const pod = own(process, 'pod');
  const container = isRecord(pod) ? own(pod, 'container') : undefined;
  const full = isRecord(container) ? stringField(container, 'id', 'process.pod.container.id') : undefined;
  const id = full ? full.replace(runtimePrefix, '') : stringField(process, 'docker', 'process.docker');
  if (id === undefined || id === '') return undefined;
  if (!containerIdPattern.test(id)) throw new FieldError(`container id ${printable(id)} is not a container id`);
  return id;
}

function namespaceInode(ns: Json, key: string): number | undefined {
  const entry = own(ns, key);
  if (!isRecord(entry)) return undefined;
  return integerField(entry, 'inum', 1, maxUint32, `process.ns.${key}.inum`);
}

function execBody(event: Json, process: Json): { body: EventBody } {
  const exe = stringField(process, 'binary', 'process.binary');
  if (!exe) throw new FieldError('process_exec.process.binary is missing');
  const parent = own(event, 'parent');
  const ppid = isRecord(parent) ? integerField(parent, 'pid', 0, maxPid, 'parent.pid') : undefined;
  const parentExe = isRecord(parent) ? stringField(parent, 'binary', 'parent.binary') : undefined;
  const args = stringField(process, 'arguments', 'process.arguments');
  // binary_properties.file is set only when the binary ran from memfd or shared memory, or was deleted.
  const properties = own(process, 'binary_properties');
  const exeDeleted = isRecord(properties) && isRecord(own(properties, 'file'));
  return {
    body: {
      type: 'exec',
      ppid: ppid ?? unknownId,
      uid: integerField(process, 'uid', 0, maxUint32, 'process.uid') ?? unknownId,
      exe,
      argv: [exe, ...(args ? splitTetragonArguments(args) : [])],
      ...(exeDeleted ? { exeDeleted } : {}),
      ...(parentExe ? { parentExe } : {}),
    },
  };
}

function exitBody(event: Json): { body: EventBody } {
  const signal = stringField(event, 'signal', 'process_exit.signal');
  const status = integerField(event, 'status', 0, maxUint32, 'process_exit.status');
  // With a signal, status is not an exit code the process chose.
  return { body: signal ? { type: 'exit' } : { type: 'exit', exitCode: status ?? 0 } };
}

function kprobeBody(event: Json): { body: EventBody } | { skipped: string } {
  const name = stringField(event, 'function_name', 'process_kprobe.function_name');
  if (!name) throw new FieldError('process_kprobe.function_name is missing');
  const args = kprobeArgs(own(event, 'args'), 'process_kprobe.args');
  switch (name) {
    case 'tcp_connect':
      return socketBody('connect', name, args, 'tcp');
    case 'inet_csk_listen_start':
      return socketBody('listen', name, args, 'tcp');
    case 'inet_csk_accept': {
      const returned = own(event, 'return');
      return socketBody('accept', name, returned === undefined ? [] : kprobeArgs([returned], 'process_kprobe.return'), 'tcp');
    }
    case 'security_file_permission':
      return permissionBody(event, args);
    case 'security_path_truncate': {
      const path = pathOf(args, 'path_arg') ?? pathOf(args, 'file_arg');
      return path ? { body: { type: 'file-write', path } } : { skipped: `${name} without a path argument` };
    }
    case 'security_file_open':
    case 'fd_install':
      return openBody(name, args);
    default:
      return { skipped: `kprobe ${printable(name)} is not mapped` };
  }
}

function kprobeArgs(value: unknown, where: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(`${where} is ${describeType(value)}, not an array`);
  if (value.length > maxKprobeArgs) throw new FieldError(`${where} has ${value.length} arguments, more than ${maxKprobeArgs}`);
  return value.map((arg, index) => {
    if (!isRecord(arg)) throw new FieldError(`${where}[${index}] is ${describeType(arg)}, not an object`);
    return arg;
  });
}

function firstArg(args: Json[], kind: string): Json | undefined {
  for (const arg of args) {
    const value = own(arg, kind);
    if (value === undefined) continue;
    if (!isRecord(value)) throw new FieldError(`${kind} is ${describeType(value)}, not an object`);
    return value;
  }
  return undefined;
}

function socketBody(type: ConnectBody['type'], name: string, args: Json[], impliedProtocol: Protocol): { body: ConnectBody } | { skipped: string } {
  const sock = firstArg(args, 'sock_arg');
  if (!sock) return { skipped: `${name} without a sock argument` };
  const protocolName = stringField(sock, 'protocol', 'sock_arg.protocol');
  const protocol: Protocol | undefined = protocolName === undefined ? impliedProtocol : protocolName === 'IPPROTO_TCP' ? 'tcp' : protocolName === 'IPPROTO_UDP' ? 'udp' : undefined;
  if (!protocol) return { skipped: `${name} on protocol ${printable(protocolName)}` };
  // connect and accept name the peer (daddr); listen names the local bind address (saddr).
  const local = type === 'listen';
  const address = stringField(sock, local ? 'saddr' : 'daddr', `sock_arg.${local ? 'saddr' : 'daddr'}`);
  const port = integerField(sock, local ? 'sport' : 'dport', 0, 65535, `sock_arg.${local ? 'sport' : 'dport'}`);
  if (address === undefined || port === undefined) return { skipped: `${name} without ${local ? 'saddr/sport' : 'daddr/dport'}` };
  const family = familyOf(stringField(sock, 'family', 'sock_arg.family'), address);
  const body: ConnectBody = { type, protocol, family, address, port };
  if (type === 'accept') {
    const localPort = integerField(sock, 'sport', 0, 65535, 'sock_arg.sport');
    if (localPort !== undefined) body.localPort = localPort;
  }
  return { body };
}

function familyOf(family: string | undefined, address: string): AddressFamily {
  const version = isIP(address);
  if (version === 0) throw new FieldError(`${printable(address)} is not an IP address`);
  if (family !== undefined && family !== 'AF_INET' && family !== 'AF_INET6') throw new FieldError(`socket family ${printable(family)} is not AF_INET or AF_INET6`);
  return version === 6 ? 6 : 4;
}

function permissionBody(event: Json, args: Json[]): { body: EventBody } | { skipped: string } {
  const path = pathOf(args, 'file_arg');
  if (!path) return { skipped: 'security_file_permission without a file argument' };
  const maskArg = args.find((arg) => Object.hasOwn(arg, 'int_arg'));
  const mask = maskArg ? integerField(maskArg, 'int_arg', 0, maxUint32, 'int_arg') : undefined;
  if (mask === undefined) return { skipped: 'security_file_permission without its access mask (int argument)' };
  if ((mask & (mayWrite | mayAppend)) === 0) return { skipped: 'file accessed without write permission' };
  const returned = own(event, 'return');
  const result = isRecord(returned) ? own(returned, 'int_arg') : undefined;
  // A negative return is the kernel refusing the access: nothing was written.
  if (typeof result === 'number' && result < 0) return { skipped: 'file write refused by the kernel' };
  return { body: { type: 'file-write', path } };
}

/** security_file_open and fd_install carry no access mask; only open flags printed with the file say it was a write. */
function openBody(name: string, args: Json[]): { body: EventBody } | { skipped: string } {
  const file = firstArg(args, 'file_arg');
  const path = file ? stringField(file, 'path', 'file_arg.path') : undefined;
  if (!file || !path) return { skipped: `${name} without a file argument` };
  const flags = (stringField(file, 'flags', 'file_arg.flags') ?? '').split(/[|\s]+/).filter((flag) => writeFlags.has(flag));
  if (flags.length === 0) return { skipped: `${name} without write flags (hook security_file_permission for writes)` };
  return { body: { type: 'file-write', path, flags } };
}

function pathOf(args: Json[], kind: string): string | undefined {
  const value = firstArg(args, kind);
  return value ? stringField(value, 'path', `${kind}.path`) || undefined : undefined;
}

/**
 * Tetragon joins argv[1..] with spaces and wraps an argument that holds a space in double quotes, without escaping
 * anything inside; so a quote opens a token only at its start, and closes it only before a space or the end.
 */
export function splitTetragonArguments(text: string): string[] {
  const words: string[] = [];
  let index = 0;
  while (index < text.length) {
    if (text[index] === ' ') {
      index += 1;
      continue;
    }
    if (text[index] === '"') {
      let close = text.indexOf('" ', index + 1);
      if (close < 0 && text.length - index > 1 && text.endsWith('"')) close = text.length - 1;
      if (close > index) {
        words.push(text.slice(index + 1, close));
        index = close + 1;
        continue;
      }
    }
    const space = text.indexOf(' ', index);
    const end = space < 0 ? text.length : space;
    words.push(text.slice(index, end));
    index = end;
  }
  return words;
}

function tracepointName(value: unknown): string {
  if (!isRecord(value)) return '';
  const subsys = own(value, 'subsys');
  const event = own(value, 'event');
  return typeof subsys === 'string' && typeof event === 'string' ? ` ${printable(`${subsys}/${event}`)}` : '';
}
