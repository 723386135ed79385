import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuntimeEvent } from '../agent/event.ts';
import { formatEventLine } from './event-line.ts';

const at = Date.parse('2026-11-28T03:00:00.123Z');

describe('formatEventLine', () => {
  it('shows an exec with the name it ran as, its arguments quoted where needed, and its hash', () => {
    const event: RuntimeEvent = { type: 'exec', at, sensor: 'ebpf', entityId: 'c1', pid: 42, ppid: 7, uid: 0, exe: '/bin/busybox', argv: ['sleep', '0.5', 'a b'], sha256: 'ab'.repeat(32) };
    assert.equal(formatEventLine(event, 'web-1', false), '03:00:00.123 web-1 exec        pid=42 /bin/busybox (as sleep) 0.5 "a b" sha256:abababababab uid=0 ppid=7');
  });

  it('shows connections with IPv6 in brackets, and escapes control characters a hostile path carries', () => {
    const connect: RuntimeEvent = { type: 'connect', at, sensor: 'ebpf', entityId: 'c1', pid: 9, protocol: 'tcp', family: 6, address: '::1', port: 3333 };
    assert.match(formatEventLine(connect, 'web-1', false), /connect {5}pid=9 → tcp \[::1\]:3333$/);
    const write: RuntimeEvent = { type: 'file-write', at, sensor: 'ebpf', entityId: 'c1', pid: 9, path: '/tmp/a\nforged line\u001b[31m' };
    const line = formatEventLine(write, 'web-1', false);
    assert.doesNotMatch(line, /\n|\u001b/);
    assert.match(line, /\/tmp\/a\\x0aforged line\\x1b\[31m/);
  });
});
