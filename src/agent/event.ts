/**
 * Runtime events: one typed stream whatever the sensor (eBPF, /proc, Falco, Tetragon). A sensor emits RawEvents,
 * which know the process and its namespaces but not yet the entity; attribution turns each into a RuntimeEvent
 * that carries its entity. Times are milliseconds since the epoch; addresses are printable IPv4/IPv6 strings.
 */
export const sensorNames = ['ebpf', 'procfs', 'falco', 'tetragon'] as const;
export type SensorName = (typeof sensorNames)[number];

export type Protocol = 'tcp' | 'udp';
export type AddressFamily = 4 | 6;

/** What a sensor knows about where an event happened; attribution uses the first that resolves. */
export interface ProcessContext {
  pid: number;
  /** Inode of the process's mount namespace (/proc/PID/ns/mnt), when the sensor saw it. */
  mntns?: number;
  /** Inode of the process's pid namespace (/proc/PID/ns/pid). */
  pidns?: number;
  /** Container id the sensor itself attributed the event to (Falco's container.id, Tetragon's docker field); may be a 12-char prefix. */
  containerId?: string;
  /** Kubernetes pod the sensor reported (Tetragon's process.pod), for entities the runtimes have not listed yet. */
  pod?: { namespace: string; name: string; container?: string };
}

export interface ExecBody {
  type: 'exec';
  ppid: number;
  uid: number;
  /** Path of the executable as the process sees it (inside the container's mount namespace). */
  exe: string;
  argv: string[];
  /** SHA-256 of the executable as run, read through /proc/PID/exe (so deleted and memfd executables hash too). */
  sha256?: string;
  /** Why sha256 is missing: the process exited before it could be read, permission, size limit. */
  hashError?: string;
  /** The executable was deleted from disk or is a memfd when it ran (/proc/PID/exe ends in " (deleted)" or is /memfd:). */
  exeDeleted?: boolean;
  /** Executable of the parent process, when known. */
  parentExe?: string;
  /** When the exec gate killed the process, as the event arrived (prevent mode, executable not in the profile). */
  killedAtExec?: number;
}

export interface ExitBody {
  type: 'exit';
  exitCode?: number;
}

export interface ConnectBody {
  /** connect: outbound; accept: an inbound connection accepted; listen: a socket listening (tcp) or bound (udp). */
  type: 'connect' | 'accept' | 'listen';
  protocol: Protocol;
  family: AddressFamily;
  /** connect: the destination; accept: the peer; listen: the local bind address. */
  address: string;
  port: number;
  /** accept: the local port the connection came in on, when known. */
  localPort?: number;
}

export interface FileWriteBody {
  type: 'file-write';
  /** Path as opened (absolute inside the entity's mount namespace when it could be resolved). */
  path: string;
  /** open flags that made this a write: `O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_TRUNC`. */
  flags?: string[];
}

export interface CpuSampleBody {
  type: 'cpu-sample';
  /** Cores used on average over the interval (1.5 = one and a half cores). */
  cores: number;
  intervalMs: number;
}

export interface SyscallsBody {
  type: 'syscalls';
  /** Syscall name → times called since the previous syscalls event for this entity. */
  counts: Record<string, number>;
}

export type EventBody = ExecBody | ExitBody | ConnectBody | FileWriteBody | CpuSampleBody | SyscallsBody;
export type EventType = EventBody['type'];

interface EventHeader {
  at: number;
  sensor: SensorName;
  /** The executable of the acting process, when the sensor knows it (not for cpu-sample/syscalls). */
  comm?: string;
}

/** A sensor's event before attribution. cpu-sample and syscalls events may carry an entityId already. */
export type RawEvent = EventHeader & ProcessContext & EventBody & { entityId?: string };

/** An attributed event: every event carries its entity. */
export type RuntimeEvent = EventHeader & EventBody & { entityId: string; pid: number; mntns?: number; pidns?: number };

export type EventOf<T extends EventType> = RuntimeEvent & { type: T };
