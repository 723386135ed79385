/**
 * A private Docker Engine for tests that restart or kill the engine: its own socket, data root and exec root, so
 * the shared engine other tests use is never touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function docker(args: string[], host: string): Promise<string> {
  const { stdout } = await run('docker', ['-H', `unix://${host}`, ...args]);
  return stdout;
}

/** Started and stopped by the test that owns it only. Keep `dir` short: unix socket paths are limited to 108 bytes. */
export class PrivateDockerd {
  private child?: ChildProcess;
  readonly socket: string;
  constructor(readonly dir: string) {
    this.socket = join(dir, 'docker.sock');
  }

  async start(): Promise<void> {
    const log = await open(join(this.dir, 'dockerd.log'), 'a');
    // Same flags as scripts/start-services.sh, plus what keeps it apart from the shared engine; a short shutdown
    // timeout so a stop does not wait 10 s on each container.
    this.child = spawn(
      'dockerd',
      ['--bridge=none', '--iptables=false', '--shutdown-timeout=2', '-H', `unix://${this.socket}`, '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'), '--pidfile', join(this.dir, 'docker.pid')],
      { stdio: ['ignore', log.fd, log.fd] },
    );
    this.child.once('exit', () => void log.close().catch(() => undefined));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`the private dockerd exited; see ${this.dir}/dockerd.log`);
      try {
        await docker(['info', '--format', '{{.ServerVersion}}'], this.socket);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the private dockerd did not answer; see ${this.dir}/dockerd.log`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Stops the engine and removes its directory; dockerd leaves its default network namespace mounted there. */
  async remove(): Promise<void> {
    await this.stop();
    await run('umount', ['-l', join(this.dir, 'exec/netns/default')]).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** SIGTERM to our dockerd (by its pid), SIGKILL if it does not go within the timeout. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

