/**
 * Real daemons for `nomine probe` tests, on 127.0.0.1 only: a second dockerd listening on plain TCP (the exposed
 * Engine API) or on TLS (with or without client verification), and Debian's etcd, optionally with authentication enabled through its own v3 gateway. Each stops
 * its process and removes its files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CertificateFiles } from './probe-certificates.ts';
import { freePort } from './registry-server.ts';

export interface Daemon {
  host: string;
  port: number;
  name: string;
  log(): string;
  stop(): Promise<void>;
}

async function startDaemon(command: string, args: (dir: string, port: number, port2: number) => string[], ready: (port: number) => Promise<boolean>): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-probe-daemon-'));
  const port = await freePort();
  const port2 = await freePort();
  let output = '';
  const child: ChildProcess = spawn(command, args(dir, port, port2), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // A pending 10 s sleep would keep the test process alive after the daemon is gone: clear the timer instead.
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    // dockerd that fails during start-up can leave its --data-root mounted; unmount it (a no-op when not mounted).
    if (command === 'dockerd') spawnSync('umount', [join(dir, 'root')], { stdio: 'ignore' });
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${command} exited early (${child.exitCode}): ${output}`);
    }
    if (await ready(port).catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not start on port ${port}: ${output}`);
    }
    await sleep(100);
  }
  return { host: '127.0.0.1', port, name: `127.0.0.1:${port}`, log: () => output, stop };
}

async function answers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.ok;
}

/** A second dockerd with the Engine API on plain tcp://127.0.0.1:PORT, no TLS, no auth — the weak setup. */
export function startExposedDockerd(): Promise<Daemon> {
  return startDaemon(
    'dockerd',
    (dir, port) => [
      '-H', `tcp://127.0.0.1:${port}`, '-H', `unix://${dir}/d.sock`, '--data-root', `${dir}/root`, '--exec-root', `${dir}/exec`,
      '--pidfile', `${dir}/d.pid`, '--bridge=none', '--iptables=false',
    ],
    (port) => answers(`http://127.0.0.1:${port}/_ping`),
  );
}

/** Certificate files for a TLS dockerd, as makeDaemonCertificates writes them. */
export type DockerTlsFiles = Omit<CertificateFiles, 'dir' | 'remove'>;

/** GET https://127.0.0.1:PORT/_ping presenting the client certificate and trusting only the test CA. */
function answersTls(port: number, files: DockerTlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/_ping', ca: files.read(files.ca), cert: files.read(files.clientCert), key: files.read(files.clientKey), timeout: 1_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * A second dockerd with the Engine API on tcp://127.0.0.1:PORT over TLS. With `verifyClients` it runs with
 * `--tlsverify --tlscacert` (client certificates signed by the CA required — the hardened setup); without, only
 * `--tls --tlscert --tlskey` (encrypted, but anyone may talk to it — still the weak setup).
 */
export function startTlsDockerd(files: DockerTlsFiles, options: { verifyClients: boolean }): Promise<Daemon> {
  return startDaemon(
    'dockerd',
    (dir, port) => [
      '-H', `tcp://127.0.0.1:${port}`, '-H', `unix://${dir}/d.sock`, '--data-root', `${dir}/root`, '--exec-root', `${dir}/exec`,
      '--pidfile', `${dir}/d.pid`, '--bridge=none', '--iptables=false',
      // dockerd 20.10 turns --tlsverify on with --tls unless it is set to false explicitly (and then it reads
      // --tlscacert, default ~/.docker/ca.pem): the no-client-auth mode is --tls --tlsverify=false, no CA.
      ...(options.verifyClients ? ['--tlsverify', '--tlscacert', files.ca] : ['--tls', '--tlsverify=false']), '--tlscert', files.serverCert, '--tlskey', files.serverKey,
    ],
    (port) => answersTls(port, files),
  );
}

/** Debian's etcd on 127.0.0.1; with `auth`, a root user is made and authentication enabled (the hardened setup). */
export async function startEtcd(options: { auth?: { password: string } } = {}): Promise<Daemon> {
  const daemon = await startDaemon(
    'etcd',
    (dir, port, port2) => [
      '--data-dir', join(dir, 'data'), '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`,
      '--listen-peer-urls', `http://127.0.0.1:${port2}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port2}`,
      '--initial-cluster', `default=http://127.0.0.1:${port2}`,
      // The weak setup also serves the v2 API (etcd < 3.4 did by default); the hardened one does not.
      ...(options.auth ? [] : ['--enable-v2=true']),
    ],
    (port) => answers(`http://127.0.0.1:${port}/version`),
  );
  const post = async (path: string, body: object) => {
    const response = await fetch(`http://127.0.0.1:${daemon.port}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    if (!response.ok) throw new Error(`etcd ${path}: ${response.status} ${text}`);
  };
  await post('/v3/kv/put', { key: Buffer.from('/registry/secrets/default/db').toString('base64'), value: Buffer.from('hunter2').toString('base64') });
  if (options.auth) {
    await post('/v3/auth/user/add', { name: 'root', password: options.auth.password });
    await post('/v3/auth/role/add', { name: 'root' }).catch(() => undefined);
    await post('/v3/auth/user/grant', { user: 'root', role: 'root' });
    await post('/v3/auth/enable', {});
  }
  return daemon;
}
