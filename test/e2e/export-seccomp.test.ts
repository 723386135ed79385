/**
 * The seccomp export on the real Docker Engine: a busybox workload's syscalls are learned for real (bpftrace on the
 * container's mount namespace), exported as a seccomp profile, and the same workload runs under it; a miner-like
 * program that needs a syscall the workload never used (socket, a pool connection's first step) gets EPERM under
 * it and works without it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyAllowances, type Profile } from '../../src/profile/profile.ts';
import { runtimeStartSyscalls, seccompExporter } from '../../src/profile/exporters/seccomp.ts';
import { validatePolicyText } from '../../src/profile/exporters/validate-policy.ts';
import { busyboxRootfs, dockerImport, dockerUnavailable, removeImage, tarDirectory } from '../helpers/image-builder.ts';
import { containerMountNamespace, startSyscallCapture, syscallCaptureUnavailable, syscallNames, type SyscallCounts } from '../helpers/capture-syscalls.ts';

const run = promisify(execFile);

/**
 * Without libc, so its own start needs nothing but execve: with an argument it only exits (the runtime's start set
 * alone must run it); without, it calls socket(AF_INET, SOCK_STREAM, 0) and says what the kernel answered.
 */
const minerSource = String.raw`
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
static void say(const char *s, long n) { sys3(1, 1, (long)s, n); }
__attribute__((noreturn)) static void quit(long code) { for (;;) sys3(231, code, 0, 0); }
__attribute__((used)) void start_c(long *sp) {
  if (sp[0] > 1) quit(0);
  long fd = sys3(41, 2, 1, 0);
  if (fd >= 0) { say("socket: ok\n", 11); quit(0); }
  if (fd == -1) { say("socket: EPERM\n", 14); quit(3); }
  say("socket: other error\n", 20); quit(4);
}
__asm__(".global _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n  hlt\n");
`;

/** What the workload does: write, read back, list, sleep long enough for the test to find its mount namespace. */
const workload = ['/bin/sh', '-c', 'echo hello > /tmp/out && cat /tmp/out && ls / > /dev/null && sleep 1'];

async function unavailable(): Promise<string | false> {
  const docker = await dockerUnavailable();
  if (docker) return docker;
  const capture = await syscallCaptureUnavailable();
  if (capture) return capture;
  return spawnSync('gcc', ['--version']).status === 0 ? false : 'gcc is not installed';
}

const skip = await unavailable();

function profileWith(syscalls: string[]): Profile {
  return {
    id: 'wl-5ecc0e2e0001',
    key: { imageDigest: 'sha256:e2e', workload: 'container:export-seccomp-e2e' },
    image: 'nomine-export-seccomp:e2e',
    mode: 'prevent',
    phase: 'enforcing',
    learningStartedAt: 0,
    lastNewBehaviourAt: 0,
    selector: {},
    allow: { ...emptyAllowances(), syscalls },
    revision: 1,
  };
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dockerRun(args: string[]): RunResult {
  const result = spawnSync('docker', ['run', '--rm', '--network', 'none', ...args], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('seccomp export on the real Docker Engine', { skip }, () => {
  const image = `nomine-export-seccomp:e2e-${process.pid}`;
  const containers: string[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nomine-seccomp-e2e-'));
    const root = join(dir, 'root');
    await busyboxRootfs(root);
    await writeFile(join(dir, 'miner.c'), minerSource);
    await run('gcc', ['-static', '-nostdlib', '-O2', '-fno-stack-protector', '-o', join(dir, 'miner'), join(dir, 'miner.c')]);
    await copyFile(join(dir, 'miner'), join(root, 'bin', 'miner'));
    await run('chmod', ['755', join(root, 'bin', 'miner')]);
    await tarDirectory(root, join(dir, 'rootfs.tar'));
    await dockerImport(join(dir, 'rootfs.tar'), image);
  });

  after(async () => {
    for (const container of containers) await run('docker', ['rm', '-f', container]).catch(() => undefined);
    await removeImage(image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function learnSyscalls(): Promise<string[]> {
    const capture = await startSyscallCapture();
    const name = `nomine-seccomp-learn-${process.pid}`;
    containers.push(name);
    let mntns: number | undefined;
    let counts: SyscallCounts;
    try {
      await run('docker', ['run', '-d', '--name', name, '--network', 'none', image, ...workload]);
      mntns = await containerMountNamespace(name);
      const { stdout } = await run('docker', ['wait', name]);
      assert.equal(stdout.trim(), '0', 'the workload exits 0 without a profile');
    } finally {
      counts = await capture.stop();
    }
    assert.ok(counts.has(mntns), `bpftrace saw the container's mount namespace ${mntns}`);
    return syscallNames(counts.get(mntns));
  }

  it('keeps the learned workload running and refuses a syscall it never made', async () => {
    const learned = await learnSyscalls();
    assert.ok(learned.includes('execve') && learned.includes('write'), `captured a real workload: ${learned.join(' ')}`);
    assert.ok(!learned.includes('socket'), 'the workload never opens a socket, so the miner stand-in is outside its profile');

    const result = seccompExporter.export(profileWith(learned), {});
    assert.deepEqual(validatePolicyText('seccomp', result.content), { valid: true, errors: [] });
    const profileFile = join(dir, 'learned.seccomp.json');
    await writeFile(profileFile, result.content);

    const confined = dockerRun(['--security-opt', `seccomp=${profileFile}`, image, ...workload]);
    assert.equal(confined.code, 0, `workload under its own profile: ${confined.stderr}`);
    assert.equal(confined.stdout, 'hello\n');

    const minerConfined = dockerRun(['--security-opt', `seccomp=${profileFile}`, image, '/bin/miner']);
    assert.equal(minerConfined.stdout, 'socket: EPERM\n');
    assert.equal(minerConfined.code, 3);

    const minerFree = dockerRun([image, '/bin/miner']);
    assert.equal(minerFree.stdout, 'socket: ok\n', 'without the profile the same program gets its socket');
    assert.equal(minerFree.code, 0);
  });

  it('starts a container with nothing learned but the runtime start set', async () => {
    const result = seccompExporter.export(profileWith([]), {});
    const names = (JSON.parse(result.content) as { syscalls: { names: string[] }[] }).syscalls.flatMap((rule) => rule.names);
    assert.deepEqual(names.sort(), [...runtimeStartSyscalls].sort());
    const profileFile = join(dir, 'runtime-only.seccomp.json');
    await writeFile(profileFile, result.content);
    // Go's runtime inside runc varies from start to start; a few starts catch a missing syscall that one would not.
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = dockerRun(['--security-opt', `seccomp=${profileFile}`, image, '/bin/miner', 'quiet']);
      assert.equal(started.code, 0, `start ${attempt + 1} under the runtime set alone: ${started.stderr}`);
    }
    const shell = dockerRun(['--security-opt', `seccomp=${profileFile}`, image, ...workload]);
    assert.notEqual(shell.code, 0, 'a shell workload needs more than the runtime start set');
  });
});
