/**
 * The runtime benchmarks read outside output — the generator's report, bpftrace's lines, the referee's lines — and
 * their figures are only as good as those readers. Run: node --import tsx --test bench/agent-parsers.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { countLines } from './agent-bpftrace-baseline.ts';
import { parseWatchLine } from './agent-exec-watch.ts';
import { parseGeneratorOutput } from './agent-generator.ts';
import { quantile } from './agent-process-stats.ts';

const report = '{"rate":1000,"workers":1,"seconds":2.0000,"execs":100,"execErrors":0,"connects":18,"connectErrors":2,"writes":1760,"writeErrors":0,"port":4242}';

describe('parseGeneratorOutput', () => {
  it('counts an exec and an exit per exec, connect attempts, accepts and writes as the events to expect', () => {
    const parsed = parseGeneratorOutput(`{"listener":true,"accepts":18}\n${report}\n`);
    assert.equal(parsed.expectedEvents, 2 * 100 + 18 + 2 + 18 + 1760);
    assert.equal(parsed.achievedRate, parsed.expectedEvents / 2);
  });

  it('reads the report without a listener line (no connects asked for)', () => {
    assert.equal(parseGeneratorOutput(report).accepts, 0);
  });

  it('skips garbage and lines cut short, and refuses output with no usable report', () => {
    assert.equal(parseGeneratorOutput(`noise\n{"listener":tr\n${report}`).execs, 100);
    assert.throws(() => parseGeneratorOutput(''), /no usable report/);
    assert.throws(() => parseGeneratorOutput(report.slice(0, 40)), /no usable report/);
    assert.throws(() => parseGeneratorOutput('{"rate":"1000","seconds":1,"execs":1,"execErrors":0,"connects":0,"connectErrors":0,"writes":0,"writeErrors":0}'), /no usable report/);
    assert.throws(() => parseGeneratorOutput(report.replace('"seconds":2.0000', '"seconds":0')), /no usable report/);
    assert.throws(() => parseGeneratorOutput('[1,2,3]\nnull\n{}'), /no usable report/);
  });
});

describe('countLines', () => {
  const nonce = 'abcdef0123456789';
  const dir = mkdtempSync(join(tmpdir(), 'nomine-bench-lines-'));
  const file = join(dir, 'out');
  const lines = [
    `R\t${nonce}`,
    `e\t10\t/usr/local/bin/event-generator\t${nonce}`,
    `E\t10\t9\t0\t4026532177\t4026532178\tevent-generator\\x00child\\x001\t${nonce}`,
    `W\t11\t4026532177\t65\t-100\t/tmp/gen/w0-01\t${nonce}`,
    `W\t12\t4026531840\t65\t-100\t/var/log/other\t${nonce}`,
    `C\t11\t4026532177\t6\t4\t15000\t0\t127.0.0.61\tevent-generator\t${nonce}`,
    `X\t10\t0\t4026532177\tevent-generator\t${nonce}`,
    'Lost 42 events',
    '@nomine_sc[4026532177, 257]: 12',
    'W\tgarbage',
    `W\t15\t4026532177\t65\t-100\t/tmp/a path with a newline`, // the first fragment of a split printf
    `and its rest\t${nonce}`,
    `A\t13\t4026532177\t6\t4\t4242\t15000\t127.0.0.61\tevent-generator\t${nonce}`,
  ];
  const text = `${lines.join('\n')}\nW\t14\t4026532177\t65\t-100\t/tmp/cut`; // the last line is still being written

  it('counts one event per exec and only the lines of the asked mount namespace, and sums the lost events', () => {
    writeFileSync(file, text);
    const counted = countLines(file, 0, Buffer.byteLength(text), 4026532177, nonce);
    assert.equal(counted.events, 5); // E, W, C, X, A
    assert.equal(counted.allEvents, 6);
    assert.equal(counted.lost, 42);
  });

  it('counts a range between two offsets only', () => {
    writeFileSync(file, text);
    const from = Buffer.byteLength(`${lines.slice(0, 4).join('\n')}\n`);
    assert.equal(countLines(file, from, Buffer.byteLength(text), 4026532177, nonce).events, 3); // C, X, A
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('parseWatchLine', () => {
  it('reads exec and exit lines with their kernel times', () => {
    assert.deepEqual(parseWatchLine('x 4242 14411468261824 nomine-probe'), { kind: 'exec', pid: 4242, ns: 14411468261824n, comm: 'nomine-probe' });
    assert.deepEqual(parseWatchLine('d 4242 14411518769354 9'), { kind: 'exit', pid: 4242, ns: 14411518769354n, exitCode: 9 });
    assert.deepEqual(parseWatchLine('ready'), { kind: 'ready' });
  });

  it('refuses anything else', () => {
    for (const line of ['', 'x', 'x 12', 'x 12 34', 'y 1 2 3', 'x -1 2 c', 'x 1 2.5 c', 'd 1 2 nine', 'x 1 2 a b', 'Attaching 3 probes...', `x ${'9'.repeat(30)} 1 c`]) {
      assert.equal(parseWatchLine(line), undefined, line);
    }
  });
});

describe('quantile', () => {
  it('takes the nearest rank, so p99 of 200 samples is the 198th smallest', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    assert.equal(quantile(values, 0.99), 198);
    assert.equal(quantile(values, 0.5), 100);
    assert.equal(quantile(values, 1), 200);
    assert.equal(quantile(values, 0), 1);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});
