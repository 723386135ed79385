/**
 * The bpftrace script: the kernel half of the eBPF sensor, generated per run, and the line format it prints.
 * Tracepoints only (kprobes are not available everywhere). One printf line per event, tab-separated, starting with
 * a one-letter tag and ending with a tab plus a per-run random nonce (the terminator). The one field a process
 * controls freely (a path, a comm) is printed with %s and placed last, so tabs inside it stay in that field; a
 * newline inside it splits the printf over several lines, which the reader joins again until it sees the
 * terminator — a process that does not know the nonce cannot end a line early or forge one. %r is kept for argv
 * only: bpftrace 0.17 formats it slowly (a 16-byte comm printed with %r cut file-write throughput from 50k to 16k
 * lines/s here), and execs are rare next to file writes.
 *
 *   R                                                                    every probe is attached (BEGIN runs after
 *                                                                        attaching; "Attaching N probes..." before)
 *   e pid exe(%s)                                                        exec, first line
 *   E pid ppid uid mntns pidns argv(%r, NUL-separated)                   exec, second line
 *   X pid exitCode(kernel encoding) mntns comm(%s)                       exit of a thread-group leader
 *   C pid mntns ipproto family port(network order) killed addr comm(%s)  connect (sys_enter: an attempt)
 *   A pid mntns ipproto family peerPort(network order) localPort addr comm(%s)   accept, accept4
 *   L pid mntns ipproto family port addr comm(%s)                        listen (tcp) or bind (udp)
 *   W pid mntns flags dirFd path(%s)                                     open/openat/openat2/creat for writing (at exit)
 *   S                                                                    end of a syscall-count batch
 * Syscall counts are kept in a kernel map keyed by (mount namespace, syscall number) and printed by bpftrace's
 * own map printer (`@nomine_sc[mntns, nr]: count`) every interval, then cleared: no line per syscall.
 */

/** bpftrace 0.17 refuses BPFTRACE_STRLEN above 200 (strings live on the 512-byte BPF stack). */
export const maxBpftraceStringLength = 200;

export const lineTags = { ready: 'R', execPath: 'e', exec: 'E', exit: 'X', connect: 'C', accept: 'A', listen: 'L', fileWrite: 'W', syscallsEnd: 'S' } as const;
export const syscallMapName = '@nomine_sc';

// open(2) flags that make an open a write (x86_64 values, octal in the headers).
export const openFlags = { O_WRONLY: 0o1, O_RDWR: 0o2, O_CREAT: 0o100, O_TRUNC: 0o1000 } as const;
const writeFlagMask = openFlags.O_WRONLY | openFlags.O_RDWR | openFlags.O_CREAT | openFlags.O_TRUNC;
const creatFlags = openFlags.O_WRONLY | openFlags.O_CREAT | openFlags.O_TRUNC;
export const atFdCwd = -100;

export interface BpftraceScriptOptions {
  /** Random hex (no tabs or quotes) that ends every printf line; see the module comment. */
  nonce: string;
  /** How often the syscall counts are printed and cleared. */
  syscallIntervalMs: number;
  /**
   * In-kernel kill (needs --unsafe): a connect to one of `ports` from a process in an enforcing mount namespace gets
   * SIGKILL. The namespaces start as `mountNamespaces` (or, with `byDefault`, every one but `hostMntns`), and the
   * agent process `controlPid` changes them while running through a harmless syscall the script watches (see
   * killControlCall), so no restart — and no gap in events — is needed when a workload's mode changes.
   */
  kill?: { ports: readonly number[]; mountNamespaces: readonly number[]; controlPid?: number; byDefault?: boolean; hostMntns?: number };
  /** Syscall tracepoints present on this kernel (`sys_enter_openat2`, …); probes for missing ones are left out. Default: all. */
  hasTracepoint?: (name: string) => boolean;
}

/** Whether the generated script uses signal() and so needs `bpftrace --unsafe`. */
export function scriptNeedsUnsafe(options: Pick<BpftraceScriptOptions, 'kill'>): boolean {
  const kill = options.kill;
  return !!kill && kill.ports.length > 0 && (kill.mountNamespaces.length > 0 || kill.controlPid !== undefined || kill.byDefault === true);
}

/** Mount namespace inodes are handed out from here up (the kernel's PROC_DYNAMIC_FIRST). */
export const namespaceInodeBase = 0xf0000000;
/** What the control call asks of the script. */
export const killControl = { clear: 0, enforce: 1, exempt: 2 } as const;

/**
 * The control call: setpriority(PRIO_PROCESS, who, niceval) with a negative `who` that names no process (so the
 * kernel refuses it with ESRCH and changes nothing) encodes the namespace as `-(inode - base) - 1`, and `niceval`
 * says enforce, exempt or clear. The script only listens to the agent's own pid.
 */
export function killControlCall(mntns: number, action: keyof typeof killControl): { who: number; niceval: number } {
  if (!Number.isInteger(mntns) || mntns < namespaceInodeBase || mntns > 0xffffffff) throw new Error(`bpftrace kill control: ${mntns} is not a mount namespace inode`);
  return { who: -(mntns - namespaceInodeBase) - 1, niceval: killControl[action] };
}

export function generateBpftraceScript(options: BpftraceScriptOptions): string {
  if (!/^[0-9a-f]{8,64}$/.test(options.nonce)) throw new Error('bpftrace script: nonce must be 8–64 lowercase hex digits');
  if (!Number.isInteger(options.syscallIntervalMs) || options.syscallIntervalMs < 100) throw new Error('bpftrace script: syscallIntervalMs must be an integer ≥ 100');
  const has = options.hasTracepoint ?? (() => true);
  const end = `\\t${options.nonce}\\n`;
  const mntns = 'curtask->nsproxy->mnt_ns->ns.inum';
  const socketOf = (fd: string) => `((struct socket *)(*(curtask->files->fdt->fd + ${fd}))->private_data)->sk`;
  const killStatement = killStatementOf(options.kill);

  const kill = options.kill && scriptNeedsUnsafe({ kill: options.kill }) ? options.kill : undefined;
  const initial = (kill?.mountNamespaces ?? []).map((ns) => ` @nomine_enforce[${ns}] = 1;`).join('');
  const parts: string[] = [`BEGIN {${initial} printf("R${end}"); }\n`];
  if (kill?.controlPid !== undefined) {
    // The tracepoint's `who` is an 8-byte unsigned field holding the zero-extended int: cast it back to see the sign.
    parts.push(`tracepoint:syscalls:sys_enter_setpriority /pid == ${kill.controlPid} && args->which == 0 && (int32)args->who < 0/
{
  $ns = (uint64)${namespaceInodeBase} + (uint64)(-1 - (int32)args->who);
  if (args->niceval == ${killControl.enforce}) { @nomine_enforce[$ns] = 1; delete(@nomine_exempt[$ns]); }
  else if (args->niceval == ${killControl.exempt}) { @nomine_exempt[$ns] = 1; delete(@nomine_enforce[$ns]); }
  else { delete(@nomine_enforce[$ns]); delete(@nomine_exempt[$ns]); }
}
`);
  }
  // Two printfs: one holding both the 200-byte argv buffer and the 200-byte path overflows the 512-byte BPF stack.
  // Both come from one program run on one CPU, so they are adjacent in that CPU's ring and in the output.
  parts.push(`tracepoint:sched:sched_process_exec
{
  printf("e\\t%d\\t%s${end}", pid, str(args->filename));
  $t = curtask;
  $mm = $t->mm;
  printf("E\\t%d\\t%d\\t%d\\t%u\\t%u\\t%r${end}", pid, $t->real_parent->tgid, uid, $t->nsproxy->mnt_ns->ns.inum,
    $t->nsproxy->pid_ns_for_children->ns.inum, buf(uptr($mm->arg_start), $mm->arg_end - $mm->arg_start));
}

tracepoint:sched:sched_process_exit /pid == tid/
{
  printf("X\\t%d\\t%d\\t%u\\t%s${end}", pid, curtask->exit_code, ${mntns}, comm);
}
`);

  // connect: the destination is only in the caller's sockaddr at entry; the protocol comes from the socket itself.
  const connectBranch = (family: 4 | 6) => {
    const v = family === 4 ? '$s4' : '$s6';
    const cast = family === 4 ? `$s4 = (struct sockaddr_in *)args->uservaddr;\n    $port = $s4->sin_port;` : `$s6 = (struct sockaddr_in6 *)args->uservaddr;\n    $port = $s6->sin6_port;`;
    const addr = family === 4 ? `ntop(2, ${v}->sin_addr.s_addr)` : `ntop(10, ${v}->sin6_addr.in6_u.u6_addr8)`;
    const kill = killStatement ? `\n    ${killStatement}` : '';
    return `${cast}${kill}
    printf("C\\t%d\\t%u\\t%d\\t${family}\\t%d\\t%d\\t%s\\t%s${end}", pid, $ns, $sk->sk_protocol, $port, $killed, ${addr}, comm);`;
  };
  if (has('sys_enter_connect')) {
    parts.push(`tracepoint:syscalls:sys_enter_connect
{
  $family = ((struct sockaddr *)args->uservaddr)->sa_family;
  if ($family == 2 || $family == 10) {
    $sk = ${socketOf('args->fd')};
    $ns = ${mntns};
    $killed = 0;
    if ($family == 2) {
    ${connectBranch(4)}
    } else {
    ${connectBranch(6)}
    }
  }
}
`);
  }

  // accept: read the new socket at exit (works when the caller passed no sockaddr, and gives the local port too).
  const accepts = ['sys_exit_accept', 'sys_exit_accept4'].filter(has).map((name) => `tracepoint:syscalls:${name}`);
  if (accepts.length > 0) {
    parts.push(`${accepts.join(',\n')}
/args->ret >= 0/
{
  $sk = ${socketOf('args->ret')};
  $family = $sk->__sk_common.skc_family;
  if ($family == 2) {
    printf("A\\t%d\\t%u\\t%d\\t4\\t%d\\t%d\\t%s\\t%s${end}", pid, ${mntns}, $sk->sk_protocol, $sk->__sk_common.skc_dport,
      $sk->__sk_common.skc_num, ntop(2, $sk->__sk_common.skc_daddr), comm);
  } else if ($family == 10) {
    printf("A\\t%d\\t%u\\t%d\\t6\\t%d\\t%d\\t%s\\t%s${end}", pid, ${mntns}, $sk->sk_protocol, $sk->__sk_common.skc_dport,
      $sk->__sk_common.skc_num, ntop(10, $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8), comm);
  }
}
`);
  }

  // listen and UDP bind: the fd is kept per thread from entry to exit, where the socket has its final (maybe
  // kernel-chosen) port. Only UDP binds are recorded: a TCP bind is reported when it listens.
  const emitBound = (map: string) => `{
  $fd = ${map}[tid] - 1;
  delete(${map}[tid]);
  if (args->ret == 0) {
    $sk = ${socketOf('$fd')};
    $family = $sk->__sk_common.skc_family;
    if ($family == 2) {
      printf("L\\t%d\\t%u\\t%d\\t4\\t%d\\t%s\\t%s${end}", pid, ${mntns}, $sk->sk_protocol, $sk->__sk_common.skc_num,
        ntop(2, $sk->__sk_common.skc_rcv_saddr), comm);
    } else if ($family == 10) {
      printf("L\\t%d\\t%u\\t%d\\t6\\t%d\\t%s\\t%s${end}", pid, ${mntns}, $sk->sk_protocol, $sk->__sk_common.skc_num,
        ntop(10, $sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8), comm);
    }
  }
}
`;
  if (has('sys_enter_listen') && has('sys_exit_listen')) {
    parts.push(`tracepoint:syscalls:sys_enter_listen { @nomine_listen_fd[tid] = args->fd + 1; }

tracepoint:syscalls:sys_exit_listen /@nomine_listen_fd[tid]/
${emitBound('@nomine_listen_fd')}`);
  }
  if (has('sys_enter_bind') && has('sys_exit_bind')) {
    parts.push(`tracepoint:syscalls:sys_enter_bind
{
  if (${socketOf('args->fd')}->sk_protocol == 17) { @nomine_bind_fd[tid] = args->fd + 1; }
}

tracepoint:syscalls:sys_exit_bind /@nomine_bind_fd[tid]/
${emitBound('@nomine_bind_fd')}`);
  }

  // Opens for writing, filtered in the kernel so read-only opens cost no line. The path is read at exit: at entry
  // the string may sit in a page not yet faulted in (a binary's .rodata right after exec), which eBPF cannot read.
  // Only successful opens are reported.
  const openEnters: string[] = [];
  const remember = (flags: string, dirFd: string, path: string) => `@nomine_open[tid] = ((uint64)${path}, ${flags}, ${dirFd});`;
  if (has('sys_enter_openat') && has('sys_exit_openat')) {
    openEnters.push(`tracepoint:syscalls:sys_enter_openat /args->flags & ${writeFlagMask}/ { ${remember('args->flags', 'args->dfd', 'args->filename')} }\n`);
  }
  if (has('sys_enter_open') && has('sys_exit_open')) {
    openEnters.push(`tracepoint:syscalls:sys_enter_open /args->flags & ${writeFlagMask}/ { ${remember('args->flags', String(atFdCwd), 'args->filename')} }\n`);
  }
  if (has('sys_enter_creat') && has('sys_exit_creat')) {
    openEnters.push(`tracepoint:syscalls:sys_enter_creat { ${remember(String(creatFlags), String(atFdCwd), 'args->pathname')} }\n`);
  }
  if (has('sys_enter_openat2') && has('sys_exit_openat2')) {
    openEnters.push(`tracepoint:syscalls:sys_enter_openat2
{
  $flags = ((struct open_how *)args->how)->flags;
  if ($flags & ${writeFlagMask}) { ${remember('(int64)$flags', 'args->dfd', 'args->filename')} }
}
`);
  }
  const openExits = ['openat', 'open', 'creat', 'openat2'].filter((n) => has(`sys_enter_${n}`) && has(`sys_exit_${n}`)).map((n) => `tracepoint:syscalls:sys_exit_${n}`);
  if (openExits.length > 0) {
    parts.push(...openEnters, `${openExits.join(',\n')}
/@nomine_open[tid].0/
{
  if (strncmp(comm, "runc:", 5) == 0) { delete(@nomine_open[tid]); return; }
  $open = @nomine_open[tid];
  delete(@nomine_open[tid]);
  if (args->ret >= 0) {
    printf("W\\t%d\\t%u\\t%d\\t%d\\t%s${end}", pid, ${mntns}, $open.1, $open.2, str(uptr($open.0)));
  }
}
`);
  }
  const maps = [syscallMapName, ...(kill ? ['@nomine_enforce'] : []), ...(kill && (kill.controlPid !== undefined || kill.byDefault) ? ['@nomine_exempt'] : []), ...(openExits.length > 0 ? ['@nomine_open'] : []), ...(parts.some((p) => p.includes('@nomine_listen_fd')) ? ['@nomine_listen_fd'] : []), ...(parts.some((p) => p.includes('@nomine_bind_fd')) ? ['@nomine_bind_fd'] : [])];

  // The runtime's own setup inside a container (runc init joining it for \`docker exec\`) is not the workload's.
  parts.push(`tracepoint:raw_syscalls:sys_enter /strncmp(comm, "runc:", 5) != 0/ { ${syscallMapName}[${mntns}, args->id] = count(); }

interval:ms:${options.syscallIntervalMs}
{
  print(${syscallMapName});
  clear(${syscallMapName});
  printf("S${end}");
}

// bpftrace prints every map when it exits; these are internal.
END
{
${maps.map((map) => `  clear(${map});`).join('\n')}
}
`);
  return parts.join('\n');
}

function killStatementOf(kill: BpftraceScriptOptions['kill']): string | undefined {
  if (!kill || !scriptNeedsUnsafe({ kill })) return undefined;
  if (kill.controlPid !== undefined && (!Number.isInteger(kill.controlPid) || kill.controlPid < 1)) throw new Error(`bpftrace script: bad control pid ${kill.controlPid}`);
  if (kill.byDefault && (!Number.isInteger(kill.hostMntns) || kill.hostMntns! < 1)) throw new Error('bpftrace script: killing by default needs the host mount namespace');
  for (const port of kill.ports) if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bpftrace script: bad kill port ${port}`);
  for (const ns of kill.mountNamespaces) if (!Number.isInteger(ns) || ns < 1 || ns > 0xffffffff) throw new Error(`bpftrace script: bad mount namespace ${ns}`);
  // The sockaddr holds the port in network byte order: compare against the swapped constant. Nested ifs, because
  // bpftrace 0.17 warns ("Addrspace mismatch") on && between a user-memory value and a kernel one.
  const ports = [...new Set(kill.ports)].map((port) => `$port == ${((port & 0xff) << 8) | (port >> 8)}`);
  const enforced = kill.byDefault ? `@nomine_enforce[$ns] || ($ns != ${kill.hostMntns} && @nomine_exempt[$ns] == 0)` : '@nomine_enforce[$ns]';
  return `if (${enforced}) { if (${ports.join(' || ')}) { signal("KILL"); $killed = 1; } }`;
}
