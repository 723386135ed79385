/**
 * The referee of `npm run bench:enforce`: a bpftrace of the bench's own (two tracepoints, filtered in the kernel
 * to the bench's command names) that records, for every process running under that name, when its exec completed
 * (sched_process_exec) and when it died (sched_process_exit of the thread-group leader) with the kernel's exit
 * code, both from the kernel's monotonic clock. exec-to-kill from these is independent of the agent, of the
 * process's own startup and of docker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExecLife {
  comm: string;
  pid: number;
  execNs: bigint;
  exitNs?: bigint;
  /** The kernel's exit code: the low 7 bits are the killing signal (9 = SIGKILL), bits 8–15 the exit status. */
  exitCode?: number;
}

export interface ExecWatch {
  pid: number;
  /** Processes seen, in exec order. */
  lives(): ExecLife[];
  stop(): Promise<void>;
}

/** bpftrace's comm is at most 15 bytes; the names must be the executables' base names cut the same way. */
export async function startExecWatch(comms: string[], attachTimeoutMs = 90_000): Promise<ExecWatch> {
  for (const comm of comms) if (!/^[A-Za-z0-9._-]{1,15}$/.test(comm)) throw new Error(`exec watch: ${comm} is not a usable command name`);
  const filter = comms.map((comm) => `comm == "${comm}"`).join(' || ');
  const script = `BEGIN { printf("ready\\n"); }
tracepoint:sched:sched_process_exec /${filter}/ { printf("x %d %lld %s\\n", pid, nsecs, comm); }
tracepoint:sched:sched_process_exit /(${filter}) && pid == tid/ { printf("d %d %lld %d\\n", pid, nsecs, curtask->exit_code); }
`;
  const child: ChildProcess = spawn('bpftrace', ['-B', 'line', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(script);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const byPid = new Map<number, ExecLife>();
  const order: ExecLife[] = [];
  let ready = false;
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = parseWatchLine(text);
    if (line?.kind === 'ready') ready = true;
    else if (line?.kind === 'exec') {
      const life: ExecLife = { comm: line.comm, pid: line.pid, execNs: line.ns };
      byPid.set(line.pid, life);
      order.push(life);
    } else if (line?.kind === 'exit') {
      const life = byPid.get(line.pid);
      if (life && life.exitNs === undefined) {
        life.exitNs = line.ns;
        life.exitCode = line.exitCode;
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const deadline = Date.now() + attachTimeoutMs;
  while (!ready) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exec watch: bpftrace exited: ${stderr.trim().slice(-600)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`exec watch: bpftrace did not attach within ${attachTimeoutMs} ms`);
    }
    await sleep(50);
  }
  return {
    pid: child.pid!,
    lives: () => [...order],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type WatchLine = { kind: 'ready' } | { kind: 'exec'; pid: number; ns: bigint; comm: string } | { kind: 'exit'; pid: number; ns: bigint; exitCode: number };

/** One line of the watch script's output (`x PID NS COMM`, `d PID NS CODE`, `ready`); undefined for anything else. */
export function parseWatchLine(line: string): WatchLine | undefined {
  if (line === 'ready') return { kind: 'ready' };
  const [kind, pidText, nsText, last, ...rest] = line.split(' ');
  if ((kind !== 'x' && kind !== 'd') || rest.length > 0 || !/^\d{1,10}$/.test(pidText ?? '') || !/^\d{1,20}$/.test(nsText ?? '') || last === undefined || last === '') return undefined;
  const pid = Number(pidText);
  if (kind === 'x') return { kind: 'exec', pid, ns: BigInt(nsText!), comm: last };
  if (!/^-?\d{1,10}$/.test(last)) return undefined;
  return { kind: 'exit', pid, ns: BigInt(nsText!), exitCode: Number(last) };
}

/** Waits (briefly) until the life has its exit; bpftrace's line may trail docker's answer. */
export async function awaitExit(life: ExecLife, timeoutMs = 2000): Promise<ExecLife> {
  const deadline = Date.now() + timeoutMs;
  while (life.exitNs === undefined && Date.now() < deadline) await sleep(5);
  return life;
}
