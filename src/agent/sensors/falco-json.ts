/**
 * Falco's JSON alerts as RawEvents. With `json_output: true` Falco writes one object per rule match — `time`
 * (RFC 3339, nanoseconds), `rule`, `priority`, `source`, `hostname`, `output` and `output_fields` — and
 * `output_fields` holds only what the rule's output (or `append_output`'s `extra_fields`) names. So this maps
 * whatever a match carries and, when a field it needs is absent, says which one to add to the rule output.
 * Falco's `<NA>` values arrive as JSON null and count as absent.
 */
import { isIP } from 'node:net';
import type { AddressFamily, ConnectBody, EventBody, ProcessContext, Protocol, RawEvent } from '../event.ts';
import type { MapResult } from './ingest-sensor.ts';
import { containerIdPattern, describeType, eventTime, FieldError, integerField, isRecord, type JsonObject as Fields, maxPid, maxUint32, own, printable, stringField, unknownId } from './json-fields.ts';

const execTypes = new Set(['execve', 'execveat']);
const acceptTypes = new Set(['accept', 'accept4']);
const listenTypes = new Set(['listen', 'bind']);
const openTypes = new Set(['open', 'openat', 'openat2', 'creat']);
/** The open flags that make an open a write, as Falco prints them in evt.arg.flags. */
const writeFlags = new Set(['O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC']);
/** creat(2) is open(2) with these flags. */
const creatFlags = ['O_CREAT', 'O_WRONLY', 'O_TRUNC'];

export function mapFalcoEvent(json: unknown, now: number): MapResult {
  try {
    return mapAlert(json, now);
  } catch (error) {
    if (error instanceof FieldError) return { error: error.message };
    throw error;
  }
}

function mapAlert(json: unknown, now: number): MapResult {
  if (!isRecord(json)) return { error: `a Falco alert is a JSON object, not ${describeType(json)}` };
  const source = own(json, 'source');
  if (source !== undefined && source !== null && source !== 'syscall') {
    return { skipped: `source ${printable(source)} is not the syscall source` };
  }
  const fields = own(json, 'output_fields');
  if (!isRecord(fields)) return { error: 'output_fields is missing or not an object (is json_output enabled?)' };
  const type = stringField(fields, 'evt.type');
  if (type === undefined) return { skipped: 'the rule output has no evt.type, so the kind of event is unknown' };

  const body = bodyFor(type, fields);
  if ('skipped' in body) return body;

  const at = eventTime(json, now);
  const context = processContext(fields);
  const comm = stringField(fields, 'proc.exepath') ?? stringField(fields, 'proc.exe') ?? stringField(fields, 'proc.name');
  const event = { at, sensor: 'falco', ...(comm === undefined ? {} : { comm }), ...context, ...body.body } as RawEvent;
  return { events: [event] };
}

function bodyFor(type: string, fields: Fields): { body: EventBody } | { skipped: string } {
  if (execTypes.has(type)) return { body: execBody(fields) };
  if (type === 'procexit') return { body: { type: 'exit' } };
  if (type === 'connect') return connectBody('connect', fields);
  if (acceptTypes.has(type)) return connectBody('accept', fields);
  if (listenTypes.has(type)) return connectBody('listen', fields, type === 'listen' ? 'tcp' : undefined);
  if (openTypes.has(type)) return fileWriteBody(type, fields);
  return { skipped: `evt.type ${printable(type)} is not mapped` };
}

function processContext(fields: Fields): ProcessContext {
  const pid = integerField(fields, 'proc.pid', 1, maxPid);
  if (pid === undefined) throw new FieldError('output_fields has no proc.pid: add %proc.pid to the rule output or to append_output extra_fields');
  const context: ProcessContext = { pid };
  const containerId = stringField(fields, 'container.id');
  // Falco names processes outside any container `host`.
  if (containerId !== undefined && containerId !== 'host' && containerId !== '') {
    if (!containerIdPattern.test(containerId)) throw new FieldError(`container.id ${printable(containerId)} is not a container id`);
    context.containerId = containerId;
  }
  const namespace = stringField(fields, 'k8s.ns.name');
  const podName = stringField(fields, 'k8s.pod.name');
  if (namespace && podName) {
    const container = stringField(fields, 'container.name');
    context.pod = { namespace, name: podName, ...(container ? { container } : {}) };
  }
  return context;
}

function execBody(fields: Fields): EventBody {
  const exe = stringField(fields, 'proc.exepath') ?? stringField(fields, 'proc.exe');
  if (exe === undefined) throw new FieldError('an exec alert needs proc.exepath (or proc.exe) in the rule output');
  const flags = stringField(fields, 'evt.arg.flags')?.split('|') ?? [];
  const parentExe = stringField(fields, 'proc.pexepath') ?? stringField(fields, 'proc.pexe');
  const exeDeleted = fields['proc.is_exe_from_memfd'] === true || flags.includes('EXE_FROM_MEMFD');
  return {
    type: 'exec',
    ppid: integerField(fields, 'proc.ppid', 0, maxPid) ?? unknownId,
    uid: integerField(fields, 'user.uid', 0, maxUint32) ?? unknownId,
    exe,
    argv: argvOf(fields, exe),
    ...(exeDeleted ? { exeDeleted } : {}),
    ...(parentExe === undefined ? {} : { parentExe }),
  };
}

/**
 * Falco joins the arguments with single spaces and does not quote them, so an argument holding a space cannot be
 * told apart from two: split on spaces, as Falco's own proc.args consumers do.
 */
function argvOf(fields: Fields, exe: string): string[] {
  const args = stringField(fields, 'proc.args');
  const first = stringField(fields, 'proc.exe') ?? stringField(fields, 'proc.name') ?? exe;
  if (args !== undefined) return [first, ...splitOnSpaces(args)];
  const cmdline = stringField(fields, 'proc.cmdline');
  if (cmdline !== undefined) {
    const words = splitOnSpaces(cmdline);
    if (words.length > 0) return words;
  }
  return [first];
}

function splitOnSpaces(text: string): string[] {
  return text.split(' ').filter((word) => word !== '');
}

function connectBody(type: ConnectBody['type'], fields: Fields, impliedProtocol?: Protocol): { body: ConnectBody } | { skipped: string } {
  const typechar = stringField(fields, 'fd.typechar');
  if (typechar !== undefined && typechar !== '4' && typechar !== '6') return { skipped: `${type} on a non-IP socket (fd.typechar ${printable(typechar)})` };
  const l4 = stringField(fields, 'fd.l4proto');
  const protocol = l4 === 'tcp' || l4 === 'udp' ? l4 : impliedProtocol;
  if (protocol === undefined) {
    return { skipped: l4 === undefined ? `${type} without fd.l4proto in the rule output` : `${type} over ${printable(l4)}, neither tcp nor udp` };
  }
  const tuple = tupleOf(fields);
  const endpoint = type === 'connect' ? remote(fields, tuple) : type === 'accept' ? client(fields, tuple) : server(fields, tuple);
  if (!endpoint) return { skipped: `${type} without an address: add %fd.name (or %fd.rip and %fd.rport) to the rule output` };
  const family = familyOf(endpoint.address, typechar);
  const body: ConnectBody = { type, protocol, family, address: endpoint.address, port: endpoint.port };
  if (type === 'accept') {
    const localPort = integerField(fields, 'fd.sport', 0, 65535) ?? integerField(fields, 'fd.lport', 0, 65535) ?? tuple?.server.port;
    if (localPort !== undefined) body.localPort = localPort;
  }
  return { body };
}

interface Endpoint {
  address: string;
  port: number;
}

/** fd.name of an IP socket: `client:port->server:port`, or `address:port` for a socket that is only bound. */
function tupleOf(fields: Fields): { client?: Endpoint; server: Endpoint } | undefined {
  const name = stringField(fields, 'fd.name');
  if (name === undefined) return undefined;
  const arrow = name.indexOf('->');
  if (arrow < 0) {
    const server = endpointOf(name);
    return server ? { server } : undefined;
  }
  const clientEnd = endpointOf(name.slice(0, arrow));
  const serverEnd = endpointOf(name.slice(arrow + 2));
  if (!clientEnd || !serverEnd) throw new FieldError(`fd.name ${printable(name)} is not a client->server address pair`);
  return { client: clientEnd, server: serverEnd };
}

function endpointOf(text: string): Endpoint | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  const address = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535 || isIP(address) === 0) return undefined;
  return { address, port };
}

function remote(fields: Fields, tuple: ReturnType<typeof tupleOf>): Endpoint | undefined {
  return pair(fields, 'fd.rip', 'fd.rport') ?? pair(fields, 'fd.sip', 'fd.sport') ?? (tuple?.client ? tuple.server : undefined);
}

function client(fields: Fields, tuple: ReturnType<typeof tupleOf>): Endpoint | undefined {
  return pair(fields, 'fd.cip', 'fd.cport') ?? pair(fields, 'fd.rip', 'fd.rport') ?? tuple?.client;
}

function server(fields: Fields, tuple: ReturnType<typeof tupleOf>): Endpoint | undefined {
  return pair(fields, 'fd.sip', 'fd.sport') ?? pair(fields, 'fd.lip', 'fd.lport') ?? tuple?.server;
}

function pair(fields: Fields, addressField: string, portField: string): Endpoint | undefined {
  const address = stringField(fields, addressField);
  const port = integerField(fields, portField, 0, 65535);
  if (address === undefined || port === undefined) return undefined;
  if (isIP(address) === 0) throw new FieldError(`${addressField} ${printable(address)} is not an IP address`);
  return { address, port };
}

function familyOf(address: string, typechar: string | undefined): AddressFamily {
  if (typechar === '4' || typechar === '6') return typechar === '4' ? 4 : 6;
  return isIP(address) === 6 ? 6 : 4;
}

function fileWriteBody(type: string, fields: Fields): { body: EventBody } | { skipped: string } {
  const typechar = stringField(fields, 'fd.typechar');
  if (typechar !== undefined && typechar !== 'f') return { skipped: `open of a non-file (fd.typechar ${printable(typechar)})` };
  const path = stringField(fields, 'fd.name') ?? stringField(fields, 'evt.arg.name');
  if (path === undefined) return { skipped: 'open without fd.name in the rule output' };
  const printed = stringField(fields, 'evt.arg.flags');
  const flags = type === 'creat' ? creatFlags : printed?.split('|').filter((flag) => writeFlags.has(flag));
  if (flags && flags.length > 0) return { body: { type: 'file-write', path, flags } };
  // The stock macro open_write tests evt.is_open_write; a rule built on it opened for writing even without flags.
  if (fields['evt.is_open_write'] === true) return { body: { type: 'file-write', path } };
  if (printed !== undefined) return { skipped: 'file opened without write flags' };
  return { skipped: 'open without evt.arg.flags or evt.is_open_write in the rule output' };
}
