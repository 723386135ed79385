import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from '../event.ts';
import type { SensorStatus } from '../sensor.ts';
import { BpftraceOutputReader, decodeBpftraceEscapes, exitCodeOf, parseBpftraceLine, parseInteger, type BpftraceLineFormat } from './bpftrace-output.ts';

const nonce = 'deadbeef00';
const T = `\t${nonce}`;
const now = 1_700_000_000_000;
const format: BpftraceLineFormat = { terminator: T, syscallName: (nr) => ({ 0: 'read', 1: 'write', 59: 'execve' })[nr] ?? `syscall_${nr}` };

function read(lines: string[], overrides: Partial<BpftraceLineFormat> = {}) {
  const events: RawEvent[] = [];
  const statuses: SensorStatus[] = [];
  const malformed: string[] = [];
  let ready: number | undefined;
  const reader = new BpftraceOutputReader({ ...format, ...overrides }, {
    event: (e) => events.push(e),
    status: (s) => statuses.push(s),
    ready: (n) => (ready = n),
    malformed: (reason) => malformed.push(reason),
  });
  for (const line of lines) reader.push(line, now);
  reader.end();
  return { events, statuses, malformed, ready, stats: reader.stats };
}

// Lines as bpftrace 0.17 printed them for this script on this machine.
const execLines = [`e\t5412\t/usr/bin/bash${T}`, `E\t5412\t5411\t0\t4026531832\t4026531836\tbash\\x00/root/x\\x003.11.7\\x00${T}`];

describe('bpftrace output: events', () => {
  it('reads an exec from its two lines: the path line and the argv line', () => {
    const { events, malformed } = read(execLines);
    assert.deepEqual(malformed, []);
    assert.deepEqual(events, [
      { type: 'exec', at: now, sensor: 'ebpf', pid: 5412, ppid: 5411, uid: 0, mntns: 4026531832, pidns: 4026531836, exe: '/usr/bin/bash', argv: ['bash', '/root/x', '3.11.7'] },
    ]);
  });

  it('decodes %r escapes in argv back to the bytes the process passed', () => {
    // What bpftrace printed for: /bin/echo $'a\x7f\x80\xff é~ \\x41' and an argument with a tab.
    const { events } = read([`e\t1\t/bin/echo${T}`, `E\t1\t0\t0\t1\t1\t/bin/echo\\x00a\\x7f\\x80\\xff \\xc3\\xa9~ \\x41\\x00x\\x09y\\x00\\x00${T}`]);
    const exec = events[0] as Extract<RawEvent, { type: 'exec' }>;
    assert.equal(exec.argv.length, 4);
    assert.deepEqual(Buffer.from(exec.argv[1]!, 'utf8').subarray(0, 2), Buffer.from([0x61, 0x7f]));
    assert.ok(exec.argv[1]!.endsWith(' é~ \\x41'), 'a printable \\x escape is literal text (bpftrace does not escape backslashes)');
    assert.equal(exec.argv[2], 'x\ty');
    assert.equal(exec.argv[3], '', 'an empty argument stays an argument');
  });

  it('asks for the whole argv when bpftrace cut it at 200 bytes, and keeps the cut one when that fails', () => {
    const cut = `${'a'.repeat(99)}\\x00${'b'.repeat(100)}`; // 200 bytes, no final NUL
    const lines = [`e\t7\t/bin/x${T}`, `E\t7\t1\t0\t1\t1\t${cut}${T}`];
    const full = read(lines, { readArgv: (pid) => (pid === 7 ? ['whole', 'argv'] : undefined) });
    assert.deepEqual((full.events[0] as { argv: string[] }).argv, ['whole', 'argv']);
    const gone = read(lines, { readArgv: () => undefined });
    assert.deepEqual((gone.events[0] as { argv: string[] }).argv, ['a'.repeat(99), 'b'.repeat(100)]);
  });

  it('still reports an exec whose path line was lost, with argv[0] as the executable, and counts the loss', () => {
    const { events, stats } = read([execLines[1]!]);
    assert.equal((events[0] as { exe: string }).exe, 'bash');
    assert.equal(stats.malformed, 1);
  });

  it('does not pair an exe with another pid\'s exec', () => {
    const { events, stats } = read([`e\t99\t/evil${T}`, execLines[1]!]);
    assert.equal((events[0] as { exe: string }).exe, 'bash');
    assert.equal(stats.malformed, 1);
  });

  it('reads exit codes the way a shell reports them', () => {
    const { events } = read([`X\t10\t768\t4026531832\tsh${T}`, `X\t11\t9\t4026531832\tsleep${T}`, `X\t12\t0\t4026531832\tmy comm\twith tab${T}`]);
    assert.deepEqual(
      events.map((e) => [e.pid, (e as { exitCode?: number }).exitCode, e.comm]),
      [
        [10, 3, 'sh'],
        [11, 137, 'sleep'],
        [12, 0, 'my comm\twith tab'],
      ],
    );
    assert.equal(exitCodeOf(0x0100), 1);
  });

  it('reads connects with the port swapped from network byte order', () => {
    const { events } = read([
      `C\t5385\t4026531832\t6\t4\t38330\t0\t127.0.0.1\tpython3${T}`,
      `C\t5386\t4026531832\t17\t6\t13568\t0\t::1\tdig${T}`,
      `C\t5387\t4026531832\t6\t6\t20480\t0\t::ffff:10.0.0.7\tcurl${T}`,
    ]);
    assert.deepEqual(events[0], { type: 'connect', at: now, sensor: 'ebpf', pid: 5385, mntns: 4026531832, comm: 'python3', protocol: 'tcp', family: 4, address: '127.0.0.1', port: 47765 });
    assert.equal((events[0] as { port: number }).port, 47765, 'the port the listener in the same trace had');
    assert.deepEqual([events[1]!.type, (events[1] as { protocol: string }).protocol, (events[1] as { port: number }).port], ['connect', 'udp', 53]);
    assert.deepEqual([(events[2] as { family: number }).family, (events[2] as { address: string }).address, (events[2] as { port: number }).port], [4, '10.0.0.7', 80]);
  });

  it('marks a connect the kernel killed', () => {
    const { events } = read([`C\t5432\t4026531832\t6\t4\t2304\t1\t127.0.0.1\tpython3${T}`]);
    assert.equal((events[0] as { killedInKernel?: boolean }).killedInKernel, true);
    assert.equal((events[0] as { port: number }).port, 9);
  });

  it('skips sockets that are neither TCP nor UDP (ping sockets) without calling them malformed', () => {
    const { events, stats } = read([`C\t1\t1\t1\t4\t0\t0\t8.8.8.8\tping${T}`]);
    assert.deepEqual(events, []);
    assert.equal(stats.malformed, 0);
  });

  it('reads accepts with the peer and the local port, and listens', () => {
    const { events } = read([`A\t5385\t4026531832\t6\t4\t63662\t47765\t127.0.0.1\tpython3${T}`, `L\t5385\t4026531832\t17\t6\t53913\t::1\tpython3${T}`]);
    assert.deepEqual(events[0], { type: 'accept', at: now, sensor: 'ebpf', pid: 5385, mntns: 4026531832, comm: 'python3', protocol: 'tcp', family: 4, address: '127.0.0.1', port: 44792, localPort: 47765 });
    assert.deepEqual(events[1], { type: 'listen', at: now, sensor: 'ebpf', pid: 5385, mntns: 4026531832, comm: 'python3', protocol: 'udp', family: 6, address: '::1', port: 53913 });
  });

  it('reads file writes with flag names, and resolves relative paths through the hook', () => {
    const seen: [number, number, string][] = [];
    const { events } = read(
      [`W\t5385\t4026531832\t524865\t-100\t/tmp/wtest${T}`, `W\t9\t1\t577\t4294967196\tout.txt${T}`],
      { resolvePath: (pid, dirFd, path) => (seen.push([pid, dirFd, path]), `/work/${path}`) },
    );
    assert.deepEqual(events[0], { type: 'file-write', at: now, sensor: 'ebpf', pid: 5385, mntns: 4026531832, path: '/tmp/wtest', flags: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'] });
    assert.equal((events[1] as { path: string }).path, '/work/out.txt');
    assert.deepEqual(seen, [[9, -100, 'out.txt']], 'an unsigned AT_FDCWD reads back as -100');
  });

  it('keeps tabs in a path, and joins a path that a newline split over two lines', () => {
    const { events, malformed } = read([`W\t1\t1\t65\t-100\t/tmp/a\tb${T}`, `W\t2\t1\t65\t-100\t/tmp/x`, `y${T}`, `X\t3\t0\t1\tsh${T}`]);
    assert.deepEqual(malformed, []);
    assert.deepEqual(
      events.map((e) => (e as { path?: string }).path ?? e.type),
      ['/tmp/a\tb', '/tmp/x\ny', 'exit'],
    );
  });

  it('cannot be fooled by a file name that carries a forged event line', () => {
    // A process opens "/tmp/x\nC\t1\t1\t6\t4\t20480\t0\t1.2.3.4\tfake": without the nonce the forged part is path.
    const forged = `C\t1\t1\t6\t4\t20480\t0\t1.2.3.4\tfake\tcafebabe00`;
    const { events } = read([`W\t2\t1\t65\t-100\t/tmp/x`, `${forged}${T}`]);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'file-write');
    assert.equal((events[0] as { path: string }).path, `/tmp/x\n${forged}`);
  });
});

describe('bpftrace output: syscall counts and status lines', () => {
  it('sums each batch into one syscalls event per mount namespace, by name', () => {
    const { events } = read([
      '@nomine_sc[4026531832, 0]: 5',
      '@nomine_sc[4026531832, 59]: 2',
      '@nomine_sc[4026532999, 1]: 7',
      '@nomine_sc[4026532999, 451]: 1',
      '',
      `S${T}`,
      '@nomine_sc[4026531832, 0]: 1',
      `S${T}`,
      `S${T}`,
    ]);
    assert.deepEqual(events, [
      { type: 'syscalls', at: now, sensor: 'ebpf', pid: 0, mntns: 4026531832, counts: { read: 5, execve: 2 } },
      { type: 'syscalls', at: now, sensor: 'ebpf', pid: 0, mntns: 4026532999, counts: { write: 7, syscall_451: 1 } },
      { type: 'syscalls', at: now, sensor: 'ebpf', pid: 0, mntns: 4026531832, counts: { read: 1 } },
    ]);
  });

  it('reports readiness only once our BEGIN line says every probe is attached, and lost events', () => {
    assert.equal(read(['Attaching 20 probes...']).ready, undefined, 'bpftrace prints "Attaching" before it attaches');
    const { ready, statuses, stats } = read(['Attaching 20 probes...', `R${T}`, 'Lost 1234 events']);
    assert.equal(ready, 20);
    assert.deepEqual(statuses, [{ kind: 'lost-events', message: 'bpftrace lost 1234 events (perf ring buffer full)', count: 1234 }]);
    assert.equal(stats.lostEvents, 1234);
    assert.deepEqual(parseBpftraceLine('Attaching 1 probe...', now, format), { kind: 'attaching', probes: 1 });
  });
});

describe('bpftrace output: hostile lines', () => {
  const hostile = [
    'garbage',
    '\u0000\u0001\u0002',
    `E${T}`,
    `E\t1\t2${T}`,
    `E\t1\t2\t3\t4\t5\targv\textra${T}`,
    `E\t99999999999999999999\t1\t1\t1\t1\ta\\x00${T}`,
    `E\t-1\t1\t1\t1\t1\ta\\x00${T}`,
    `E\t1e3\t1\t1\t1\t1\ta\\x00${T}`,
    `E\t0x10\t1\t1\t1\t1\ta\\x00${T}`,
    `X\t1\tnine\t1\tsh${T}`,
    `C\t1\t1\t6\t4\t70000\t0\t127.0.0.1\tx${T}`,
    `C\t1\t1\t6\t4\t80\t2\t127.0.0.1\tx${T}`,
    `C\t1\t1\t6\t4\t80\t0\t999.1.1.1\tx${T}`,
    `C\t1\t1\t6\t6\t80\t0\t127.0.0.1\tx${T}`,
    `C\t1\t1\t6\t5\t80\t0\t::1\tx${T}`,
    `A\t1\t1\t6\t4\t80${T}`,
    `L\t\t\t\t\t\t\t${T}`,
    `W\t1\t1\t\t-100\t/a${T}`,
    `W\t1\t1\t65${T}`,
    `Q\t1\t2\t3${T}`,
    `EE\t1${T}`,
    `S\textra${T}`,
    `R\t1${T}`,
    `e\tnotapid\t/bin/sh${T}`,
    '@nomine_sc[',
    '@nomine_sc[1, 2]: ',
    '@nomine_sc[1 2]: 3',
    '@nomine_sc[1, 2]: -3',
    '@other[1]: 2',
    'Attaching many probes...',
    'Lost -5 events',
    'Lost 99999999999999999999 events',
    `C\t1\t1\t6\t4\t80\t0\t127.0.0.1\tx\tcafebabe00`,
  ];

  it('never throws and counts every unreadable line as malformed', () => {
    const { events, malformed, stats } = read(hostile);
    assert.deepEqual(events, []);
    assert.equal(malformed.length, hostile.length, malformed.join('\n'));
    assert.equal(stats.malformed, hostile.length);
  });

  it('gives up joining a line past the limit and reads the next line normally', () => {
    const { events, malformed } = read([`W\t2\t1\t65\t-100\t/tmp/x`, ...Array.from({ length: 200 }, () => 'y'.repeat(30)), `X\t3\t0\t1\tsh${T}`]);
    assert.equal(malformed[0], 'line split by newlines beyond the join limit');
    // The join was abandoned inside the flood (the rest of which is unreadable); the exit line after it still counts.
    assert.deepEqual(events.map((e) => e.type), ['exit']);
  });

  it('reports a stream that ends inside a split line', () => {
    const { malformed } = read([`W\t2\t1\t65\t-100\t/tmp/x`]);
    assert.deepEqual(malformed, ['stream ended inside a line']);
  });

  it('survives random mutations of real lines', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const samples = [...execLines, `C\t5385\t4026531832\t6\t4\t38330\t0\t127.0.0.1\tpython3${T}`, `W\t1\t1\t65\t-100\t/a${T}`, '@nomine_sc[1, 2]: 3', `S${T}`];
    const alphabet = '\t\\x0123456789@[]:, E\nS-';
    const lines: string[] = [];
    for (let i = 0; i < 5000; i += 1) {
      const chars = [...samples[Math.floor(random() * samples.length)]!];
      const edits = 1 + Math.floor(random() * 4);
      for (let j = 0; j < edits; j += 1) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
        else chars.splice(at, chars.length);
      }
      lines.push(chars.join(''));
    }
    const { stats } = read(lines);
    assert.equal(stats.lines, lines.length);
    assert.ok(stats.malformed > 0);
  });
});

describe('bpftrace output: helpers', () => {
  it('parses only plain decimal integers within the safe range', () => {
    assert.equal(parseInteger('0'), 0);
    assert.equal(parseInteger('-100'), -100);
    assert.equal(parseInteger('4026531832'), 4026531832);
    for (const bad of ['', '-', '1.5', '1e3', ' 1', '0x1f', '99999999999999999', '9007199254740993']) assert.equal(parseInteger(bad), undefined, bad);
  });

  it('keeps malformed escapes literal', () => {
    assert.deepEqual([...decodeBpftraceEscapes('\\x0')], [...Buffer.from('\\x0')]);
    assert.deepEqual([...decodeBpftraceEscapes('\\xzz\\x')], [...Buffer.from('\\xzz\\x')]);
    assert.deepEqual([...decodeBpftraceEscapes('\\x00\\xFF')], [0, 0xff]);
    assert.deepEqual([...decodeBpftraceEscapes('é')], [0x3f]);
  });
});
