import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeSocketAddress,
  formatIpv6,
  kernelThreadFlag,
  maxArgvEntries,
  parseCmdline,
  parseExeLink,
  parseFdinfoFlags,
  parseMountinfo,
  parseProcCgroup,
  parseProcStat,
  parseSocketLink,
  parseSocketTable,
  parseStatBusyTicks,
  parseStatusUids,
  parseUptime,
  socketStates,
  writeFlagNames,
} from './procfs-parse.ts';

const sleepStat = '4242 (sleep) S 4200 4242 4200 34816 4242 4194304 98 0 0 0 7 3 11 13 20 0 1 0 123456 2490368 216 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';

describe('parseProcStat', () => {
  it('reads ppid, cpu times and the start time that identifies a process across pid reuse', () => {
    assert.deepEqual(parseProcStat(sleepStat), {
      pid: 4242,
      comm: 'sleep',
      state: 'S',
      ppid: 4200,
      flags: 4194304,
      utime: 7,
      stime: 3,
      cutime: 11,
      cstime: 13,
      starttime: 123456,
    });
  });

  it('finds the fields after a comm that holds spaces and parentheses', () => {
    const stat = parseProcStat(sleepStat.replace('(sleep)', '(a) b (c)'));
    assert.equal(stat?.comm, 'a) b (c');
    assert.equal(stat?.ppid, 4200);
    assert.equal(stat?.starttime, 123456);
  });

  it('recognises a kernel thread by its flags', () => {
    const stat = parseProcStat('2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 1 0 0 20 0 1 0 1 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 1 0 0 0 0 0');
    assert.ok(stat && (stat.flags & kernelThreadFlag) !== 0);
  });

  it('rejects truncated, garbage and out-of-range stat text', () => {
    assert.equal(parseProcStat(''), undefined);
    assert.equal(parseProcStat('garbage'), undefined);
    assert.equal(parseProcStat(sleepStat.slice(0, 60)), undefined, 'truncated before starttime');
    assert.equal(parseProcStat(sleepStat.replace('4200 4242', '-1 4242')), undefined, 'negative ppid');
    assert.equal(parseProcStat(sleepStat.replace(' 123456 ', ' 99999999999999999999 ')), undefined, 'starttime beyond safe integers');
    assert.equal(parseProcStat(sleepStat.replace('(sleep)', `(${'x'.repeat(500)})`)), undefined, 'comm far longer than the kernel allows');
    assert.equal(parseProcStat(sleepStat.replace(' S ', ' SS ')), undefined, 'state is one letter');
    assert.equal(parseProcStat(`x${sleepStat}`), undefined);
  });
});

describe('parseStatusUids', () => {
  it('reads the real and effective uid', () => {
    const status = 'Name:\tpasswd\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n';
    assert.deepEqual(parseStatusUids(status), { uid: 1000, euid: 0 });
  });

  it('answers undefined without a well-formed Uid line', () => {
    assert.equal(parseStatusUids('Name:\tx\n'), undefined);
    assert.equal(parseStatusUids('Uid:\tabc\t0\t0\t0\n'), undefined);
    assert.equal(parseStatusUids('Uid:\t99999999999\t0\t0\t0\n'), undefined);
    assert.equal(parseStatusUids('XUid:\t0\t0\n'), undefined);
  });
});

describe('parseCmdline', () => {
  it('splits NUL-separated arguments, keeping empty ones in the middle', () => {
    assert.deepEqual(parseCmdline(Buffer.from('sleep\x0030\x00\x00x\x00')), ['sleep', '30', '', 'x']);
  });

  it('keeps a rewritten title without NULs as one argument, and nothing for a kernel thread', () => {
    assert.deepEqual(parseCmdline('nginx: worker process'), ['nginx: worker process']);
    assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
  });

  it('keeps at most maxArgvEntries arguments', () => {
    assert.equal(parseCmdline('a\0'.repeat(maxArgvEntries * 3)).length, maxArgvEntries);
  });
});

describe('parseExeLink', () => {
  it('marks deleted files and memfds, and strips the suffix', () => {
    assert.deepEqual(parseExeLink('/usr/bin/sleep'), { path: '/usr/bin/sleep', deleted: false });
    assert.deepEqual(parseExeLink('/tmp/x (deleted)'), { path: '/tmp/x', deleted: true });
    assert.deepEqual(parseExeLink('/memfd:payload (deleted)'), { path: '/memfd:payload', deleted: true });
    assert.deepEqual(parseExeLink('/memfd:'), { path: '/memfd:', deleted: true });
  });
});

describe('parseSocketLink and parseFdinfoFlags', () => {
  it('reads the inode of a socket fd and nothing else', () => {
    assert.equal(parseSocketLink('socket:[411265]'), 411265);
    assert.equal(parseSocketLink('pipe:[411265]'), undefined);
    assert.equal(parseSocketLink('socket:[0]'), undefined);
    assert.equal(parseSocketLink('socket:[99999999999999999999999]'), undefined);
    assert.equal(parseSocketLink('/tmp/socket:[1]'), undefined);
  });

  it('reads the octal open flags and names the write modes', () => {
    const flags = parseFdinfoFlags('pos:\t0\nflags:\t0102001\nmnt_id:\t25\nino:\t1234\n');
    assert.equal(flags, 0o102001);
    assert.deepEqual(writeFlagNames(flags!), ['O_WRONLY', 'O_APPEND']);
    assert.deepEqual(writeFlagNames(0o2), ['O_RDWR']);
    assert.deepEqual(writeFlagNames(0o1101), ['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
    assert.equal(writeFlagNames(0o100000), undefined, 'read-only');
  });

  it('refuses flags that are not octal', () => {
    assert.equal(parseFdinfoFlags('flags:\t0x8001\n'), undefined);
    assert.equal(parseFdinfoFlags('flags:\t09\n'), undefined);
    assert.equal(parseFdinfoFlags('pos:\t0\n'), undefined);
    assert.equal(parseFdinfoFlags(`flags:\t${'7'.repeat(40)}\n`), undefined);
  });
});

describe('decodeSocketAddress', () => {
  it('decodes IPv4 words printed in little-endian host order', () => {
    assert.deepEqual(decodeSocketAddress('0100007F:1F90'), { address: '127.0.0.1', family: 4, port: 8080 });
    assert.deepEqual(decodeSocketAddress('00000000:0000'), { address: '0.0.0.0', family: 4, port: 0 });
    assert.deepEqual(decodeSocketAddress('FFFFFFFF:FFFF'), { address: '255.255.255.255', family: 4, port: 65535 });
    assert.deepEqual(decodeSocketAddress('0A01A8C0:0050'), { address: '192.168.1.10', family: 4, port: 80 });
  });

  it('decodes on a big-endian host too', () => {
    assert.deepEqual(decodeSocketAddress('7F000001:0016', false), { address: '127.0.0.1', family: 4, port: 22 });
  });

  it('decodes IPv6 loopback, any and a global address in RFC 5952 form', () => {
    assert.deepEqual(decodeSocketAddress('00000000000000000000000001000000:0050'), { address: '::1', family: 6, port: 80 });
    assert.deepEqual(decodeSocketAddress('00000000000000000000000000000000:0000'), { address: '::', family: 6, port: 0 });
    // 2001:db8::8a2e:370:7334 as the kernel prints it on x86
    assert.deepEqual(decodeSocketAddress('B80D0120000000002E8A000034737003:01BB'), { address: '2001:db8::8a2e:370:7334', family: 6, port: 443 });
    assert.deepEqual(decodeSocketAddress('000080FE00000000FF4F7A0234A1E1FE:0016')?.address, 'fe80::27a:4fff:fee1:a134');
  });

  it('reports an IPv4-mapped IPv6 address as the IPv4 peer it is', () => {
    assert.deepEqual(decodeSocketAddress('0000000000000000FFFF00000100007F:D431'), { address: '127.0.0.1', family: 4, port: 54321 });
  });

  it('refuses malformed addresses', () => {
    for (const bad of ['', '0100007F', '0100007F:', '0100007F:1F9', '0100007F:1F900', 'GGGGGGGG:0050', '0100007F0:0050', '0100007F:0050:0050', ' 0100007F:0050']) {
      assert.equal(decodeSocketAddress(bad), undefined, bad);
    }
  });
});

describe('formatIpv6', () => {
  it('compresses the longest zero run, the first of equal runs, and never a single zero group', () => {
    assert.equal(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
    assert.equal(formatIpv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIpv6([1, 0, 0, 0, 0, 0, 0, 0]), '1::');
    assert.equal(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  });
});

describe('parseSocketTable', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1066 1 00000000ce3da9a8 100 0 0 10 0',
    '   1: 0100007F:46A0 0100007F:DD1A 01 00000000:00000000 00:00000000 00000000  1000        0 447821 1 00000000dee4a887 20 4 30 10 -1',
    '   2: 0100007F:46A0 0100007F:DD2A 06 00000000:00000000 03:00000800 00000000     0        0 0 3 000000000ed6bd5a',
    '',
  ].join('\n');

  it('reads listening, established and timed-wait sockets with their inodes', () => {
    const entries = parseSocketTable(tcp, 'tcp');
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[0], {
      protocol: 'tcp',
      local: { address: '0.0.0.0', family: 4, port: 2024 },
      remote: { address: '0.0.0.0', family: 4, port: 0 },
      state: socketStates.listen,
      uid: 0,
      inode: 1066,
    });
    assert.equal(entries[1]!.state, socketStates.established);
    assert.equal(entries[1]!.uid, 1000);
    assert.deepEqual(entries[1]!.remote, { address: '127.0.0.1', family: 4, port: 56602 });
    assert.equal(entries[2]!.inode, 0);
  });

  it('reads tcp6 lines', () => {
    const line = '   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 0 10 -1';
    const [entry] = parseSocketTable(line, 'tcp');
    assert.deepEqual(entry?.local, { address: '::1', family: 6, port: 8080 });
    assert.deepEqual(entry?.remote, { address: '127.0.0.1', family: 4, port: 50000 });
  });

  it('skips the header, truncated lines and garbage, and keeps the good lines around them', () => {
    const lines = tcp.split('\n');
    const hostile = [
      lines[0],
      lines[1]!.slice(0, 40),
      'x: 0100007F:46A0 0100007F:DD1A 01 0 0 0 0 0 1',
      '   5: 0100007F:46A0 0100007F:DD1A ZZ 00000000:00000000 00:00000000 00000000 0 0 1 1',
      '   6: 0100007F:46A0 0100007F:DD1A 01 00000000:00000000 00:00000000 00000000 -5 0 1 1',
      '   7: 0100007F:46A0 0100007F:DD1A 01 00000000:00000000 00:00000000 00000000 0 0 123456789012345678901234 1',
      '\u0000\u0001binary\uffff',
      lines[2],
      'A'.repeat(100_000),
    ].join('\n');
    const entries = parseSocketTable(hostile, 'tcp');
    assert.deepEqual(
      entries.map((e) => e.inode),
      [447821],
    );
  });
});

describe('parseProcCgroup', () => {
  it('reads cgroup v1 controllers and the v2 line', () => {
    const text = '12:cpu,cpuacct:/docker/abc\n9:name=systemd:/docker/abc\n0::/system.slice/docker-abc.scope\n';
    assert.deepEqual(parseProcCgroup(text), [
      { hierarchy: 12, controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
      { hierarchy: 9, controllers: ['name=systemd'], path: '/docker/abc' },
      { hierarchy: 0, controllers: [], path: '/system.slice/docker-abc.scope' },
    ]);
  });

  it('keeps colons inside the path and skips garbage lines', () => {
    assert.deepEqual(parseProcCgroup('garbage\n3:cpuacct\n0::/a:b\n2:cpu:relative\n'), [{ hierarchy: 0, controllers: [], path: '/a:b' }]);
  });
});

describe('parseMountinfo', () => {
  it('finds cgroup mounts with their super options and unescapes paths', () => {
    const text = [
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
      '40 31 0:35 / /sys/fs/cgroup/unified rw,relatime shared:4 master:1 - cgroup2 cgroup2 rw',
      '41 27 8:1 / /mnt/with\\040space rw - ext4 /dev/sda1 rw',
      'short line',
      '42 27 8:1 / /x rw - ext4',
    ].join('\n');
    const mounts = parseMountinfo(text);
    assert.deepEqual(
      mounts.map((m) => [m.mountPoint, m.fsType, m.superOptions.join(',')]),
      [
        ['/sys/fs/cgroup/cpu', 'cgroup', 'rw,cpu'],
        ['/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'],
        ['/sys/fs/cgroup/unified', 'cgroup2', 'rw'],
        ['/mnt/with space', 'ext4', 'rw'],
      ],
    );
  });
});

describe('parseUptime and parseStatBusyTicks', () => {
  it('reads seconds since boot', () => {
    assert.equal(parseUptime('12345.67 2345.56\n'), 12345.67);
    assert.equal(parseUptime('abc 1\n'), undefined);
    assert.equal(parseUptime(''), undefined);
  });

  it('adds the busy columns of the cpu line and leaves idle and iowait out', () => {
    const stat = 'cpu  100 2 30 5000 40 5 6 7 0 0\ncpu0 50 1 15 2500 20 2 3 3 0 0\nintr 1 2 3\n';
    assert.equal(parseStatBusyTicks(stat), 100 + 2 + 30 + 5 + 6 + 7);
    assert.equal(parseStatBusyTicks('cpu  1 2 3 4 5 6 7\n'), 1 + 2 + 3 + 6 + 7, 'kernels before steal');
    assert.equal(parseStatBusyTicks('cpu0 1 2 3 4 5 6 7 8\n'), undefined);
    assert.equal(parseStatBusyTicks('cpu  a b c\n'), undefined);
    assert.equal(parseStatBusyTicks(`cpu  ${'9'.repeat(30)} 0 0 0 0 0 0 0\n`), undefined);
  });
});
