/**
 * A real registry for tests: Debian's docker-registry (distribution 2.8) on a free 127.0.0.1 port, storing in a
 * temp dir, with optional htpasswd basic auth or token auth. Stop it to kill the process and remove its files.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RegistryServerOptions {
  /** Basic auth with one user (bcrypt htpasswd made with `htpasswd -Bbn`). */
  htpasswd?: { username: string; password: string };
  /** Token auth per the distribution token spec; `rootCertBundle` holds the cert whose key signs the tokens. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryServer {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  /** What the registry printed, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configYaml(dir: string, port: number, options: RegistryServerOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (options.htpasswd) {
    lines.push('auth:', '  htpasswd:', '    realm: nomine-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (options.token) {
    const { realm, service, issuer, rootCertBundle } = options.token;
    lines.push('auth:', '  token:', `    realm: ${realm}`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${rootCertBundle}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startRegistryServer(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-registry-'));
  if (options.htpasswd) {
    const line = execFileSync('htpasswd', ['-Bbn', options.htpasswd.username, options.htpasswd.password], { encoding: 'utf8' });
    await writeFile(join(dir, 'htpasswd'), line.trim() + '\n');
  }
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, configYaml(dir, port, options));

  let output = '';
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready once /v2/ answers anything (401 included, when auth is on).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited early (${child.exitCode}): ${output}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/`);
      await response.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`docker-registry did not start on port ${port}: ${output}`);
      }
      await sleep(50);
    }
  }
  return { host: `127.0.0.1:${port}`, port, dir, log: () => output, stop };
}
