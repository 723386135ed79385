/**
 * The floor of `npm run bench:agent`: the agent's own bpftrace script (same generator, same environment, same
 * flags as the eBPF sensor) run with no agent behind it, its output going straight to a file. What it delivers and
 * what it costs is what any user-space consumer of this sensor starts from; the agent's figures are read against it.
 * Lines are counted afterwards per mount namespace, so only the generator's events count, as for the agent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { listSyscallTracepoints } from '../src/platform/tracefs.ts';
import { generateBpftraceScript, lineTags, maxBpftraceStringLength } from '../src/agent/sensors/bpftrace-script.ts';
import { bpftraceSensorDefaults } from '../src/agent/sensors/bpftrace-sensor.ts';

export interface BareBpftrace {
  child: ChildProcess;
  pid: number;
  outputPath: string;
  /** Ends every event line (see bpftrace-script.ts): a line without it is a fragment, not an event. */
  nonce: string;
  /** Bytes written to the output so far (a step's lines lie between two offsets). */
  offset(): number;
  stop(): Promise<void>;
}

/** Starts bpftrace with the sensor's script, stdout to `outputPath`; resolves once its probes are attached. */
export async function startBareBpftrace(outputPath: string, attachTimeoutMs = 90_000): Promise<BareBpftrace> {
  const nonce = randomBytes(8).toString('hex');
  const tracepoints = listSyscallTracepoints();
  const script = generateBpftraceScript({
    nonce,
    syscallIntervalMs: bpftraceSensorDefaults.syscallIntervalMs,
    hasTracepoint: tracepoints.size > 0 ? (name) => tracepoints.has(name) : undefined,
  });
  const out = openSync(outputPath, 'w');
  const child = spawn('bpftrace', ['-B', 'line', '-'], {
    stdio: ['pipe', out, 'pipe'],
    env: {
      ...process.env,
      BPFTRACE_STRLEN: String(maxBpftraceStringLength),
      BPFTRACE_PERF_RB_PAGES: String(bpftraceSensorDefaults.perfRingPages),
      BPFTRACE_MAP_KEYS_MAX: String(bpftraceSensorDefaults.mapKeysMax),
    },
  });
  closeSync(out);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  child.stdin!.end(script);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const size = () => {
    try {
      return statSync(outputPath).size;
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + attachTimeoutMs;
  const ready = `${lineTags.ready}\t${nonce}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`bare bpftrace exited before attaching: ${stderr.trim().slice(-800)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bare bpftrace did not attach within ${attachTimeoutMs} ms: ${stderr.trim().slice(-800)}`);
    }
    if (size() > 0 && readRange(outputPath, 0, Math.min(size(), 1 << 16)).includes(ready)) break;
    await sleep(100);
  }
  return {
    child,
    pid: child.pid!,
    outputPath,
    nonce,
    offset: size,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function readRange(path: string, from: number, to: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, to - from));
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, from + read);
      if (n <= 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** Field index of the mount namespace in each event line (after the tag), per the script's line format. */
const mntnsField: Record<string, number> = { [lineTags.exec]: 4, [lineTags.exit]: 3, [lineTags.connect]: 2, [lineTags.accept]: 2, [lineTags.listen]: 2, [lineTags.fileWrite]: 2 };

export interface LineCount {
  /** Event lines of the mount namespace (an exec's two lines count once, as the agent makes one event of them). */
  events: number;
  /** Event lines of every namespace. */
  allEvents: number;
  /** Sum of bpftrace's "Lost N events" lines (perf ring buffer full). */
  lost: number;
}

/** Counts the event lines between two output offsets, read in chunks so a long step does not load all at once. */
export function countLines(path: string, from: number, to: number, mntns: number, nonce: string): LineCount {
  const wanted = String(mntns);
  const terminator = `\t${nonce}`;
  const count: LineCount = { events: 0, allEvents: 0, lost: 0 };
  let carry = '';
  const chunk = 4 << 20;
  for (let at = from; at < to; at += chunk) {
    const text = carry + readRange(path, at, Math.min(to, at + chunk));
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('Lost ') && line.endsWith(' events')) {
        count.lost += Number(line.slice(5, -7)) || 0;
        continue;
      }
      const field = mntnsField[line[0] ?? ''];
      if (field === undefined || line[1] !== '\t' || !line.endsWith(terminator)) continue;
      count.allEvents += 1;
      if (line.split('\t', field + 1)[field] === wanted) count.events += 1;
    }
  }
  return count;
}
