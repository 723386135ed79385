/**
 * `nomine scan|audit|probe --server URL --token-file FILE` as a pipeline runs it: the built CLI against a real
 * `nomine server` process on 127.0.0.1, each with its own $NOMINE_HOME. The report the console stores is exactly
 * what `--json` prints; the tool's output and exit code are the same with and without --server; a refused upload
 * names the server and the reason and exits 2, with the report still printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { cliEntry, describeRun, parseStdout, repositoryRoot, runCli, tempHome } from '../helpers/run-cli.ts';

const adminPassword = 'correct horse battery staple';

interface RunningServer {
  url: string;
  stop(): Promise<number | null>;
}

function startServer(home: string): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) env[key] = value;
  const child: ChildProcess = spawn(process.execPath, [cliEntry, 'server', '--listen', '127.0.0.1:0'], {
    cwd: repositoryRoot,
    env: { ...env, NOMINE_HOME: home, NOMINE_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server printed no URL in time:\n${output}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = /listening on (https?:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, stop: async () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
}

async function call(url: string, options: { method?: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(text || 'null') as any };
}

describe('sending reports to the console', () => {
  const homes: string[] = [];
  let server: RunningServer;
  let session: Record<string, string>;
  let tokenFile: string;
  let work: string;

  before(async () => {
    work = await tempHome('nomine-e2e-upload-');
    homes.push(work);
    const serverHome = await tempHome('nomine-e2e-upload-server-');
    homes.push(serverHome);
    server = await startServer(serverHome);
    const login = await call(`${server.url}/api/login`, { method: 'POST', body: { username: 'admin', password: adminPassword } });
    assert.equal(login.status, 200);
    session = { cookie: String(login.headers['set-cookie']).split(';')[0]!, 'x-csrf-token': login.json.csrfToken };
    const token = await call(`${server.url}/api/tokens`, { method: 'POST', body: { name: 'ci', role: 'ingest' }, headers: session });
    assert.equal(token.status, 201);
    tokenFile = join(work, 'token');
    await writeFile(tokenFile, `${token.json.token}\n`, { mode: 0o600 });
  });

  after(async () => {
    if (server) assert.equal(await server.stop(), 0);
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  async function storedReports(kind: string): Promise<{ id: string; submittedBy: string }[]> {
    const listed = await call(`${server.url}/api/reports?kind=${kind}`, { headers: session });
    assert.equal(listed.status, 200);
    return listed.json.reports;
  }

  it('stores what `nomine scan rootfs:DIR --json` prints, leaving output and exit code as they are', async () => {
    const rootfs = join(work, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    await writeFile(join(rootfs, 'etc/motd'), 'hello\n');
    const home = await tempHome('nomine-e2e-upload-scan-');
    homes.push(home);
    const plain = await runCli(['scan', `rootfs:${rootfs}`, '--json'], { home, timeoutMs: 180_000 });
    const sent = await runCli(['scan', `rootfs:${rootfs}`, '--json', '--server', server.url, '--token-file', tokenFile], { home, timeoutMs: 180_000 });
    assert.equal(sent.code, plain.code, describeRun(sent));
    assert.notEqual(sent.code, 2, describeRun(sent));
    const printed = parseStdout(sent);
    assert.deepEqual(Object.keys(printed), Object.keys(parseStdout(plain)));
    const id = /scan report stored on (\S+) as (\S+)/.exec(sent.stderr);
    assert.ok(id, describeRun(sent));
    assert.equal(id[1], server.url);

    const [newest] = await storedReports('scan');
    assert.equal(newest!.id, id[2]);
    assert.match(newest!.submittedBy, /^token:/);
    const detail = await call(`${server.url}/api/reports/${newest!.id}`, { headers: session });
    assert.equal(detail.status, 200);
    assert.equal(detail.json.kind, 'scan');
    assert.deepEqual(detail.json.report, printed);
  });

  it('sends the JSON report whatever --format prints, taking the server and token from the environment', async () => {
    const manifests = join(work, 'manifests');
    await mkdir(manifests, { recursive: true });
    await writeFile(
      join(manifests, 'pod.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: loose, namespace: shop}\nspec:\n  hostPID: true\n  containers:\n  - name: app\n    image: busybox\n    securityContext: {privileged: true}\n',
    );
    const home = await tempHome('nomine-e2e-upload-audit-');
    homes.push(home);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const plain = await runCli(['audit', 'k8s', manifests], { home });
    const sent = await runCli(['audit', 'k8s', manifests], { home, env: { NOMINE_SERVER: server.url, NOMINE_TOKEN: token } });
    assert.equal(plain.code, 1, describeRun(plain));
    assert.equal(sent.code, 1, describeRun(sent));
    assert.equal(sent.stdout, plain.stdout, 'the table is unchanged');
    const [newest] = await storedReports('audit');
    const detail = await call(`${server.url}/api/reports/${newest!.id}`, { headers: session });
    const json = parseStdout(await runCli(['audit', 'k8s', manifests, '--json'], { home }));
    assert.deepEqual(detail.json.report.results, json.results);
  });

  it('sends a probe report too', async () => {
    const home = await tempHome('nomine-e2e-upload-probe-');
    homes.push(home);
    const target = server.url.replace(/^http:\/\//, '');
    const args = ['probe', target, '--probes', 'web-console', '--json'];
    const plain = await runCli(args, { home });
    const sent = await runCli([...args, '--server', server.url, '--token-file', tokenFile], { home });
    assert.equal(sent.code, plain.code, describeRun(sent));
    assert.match(sent.stderr, /probe report stored on /);
    const [newest] = await storedReports('probe');
    const detail = await call(`${server.url}/api/reports/${newest!.id}`, { headers: session });
    assert.deepEqual(Object.keys(detail.json.report).sort(), Object.keys(parseStdout(sent)).sort());
  });

  it('exits 2 naming the server and the reason when the console refuses the token, still printing the report', async () => {
    const rootfs = join(work, 'rootfs');
    const home = await tempHome('nomine-e2e-upload-refused-');
    homes.push(home);
    const wrong = join(work, 'wrong-token');
    await writeFile(wrong, 'nmn_this-token-was-never-issued-by-the-console-xx\n');
    const before = (await storedReports('scan')).length;
    const refused = await runCli(['scan', `rootfs:${rootfs}`, '--json', '--server', server.url, '--token-file', wrong], { home, timeoutMs: 180_000 });
    assert.equal(refused.code, 2, describeRun(refused));
    assert.ok(parseStdout(refused).images, 'the report is printed all the same');
    assert.match(refused.stderr, new RegExp(`nomine: unauthorized: server ${server.url.replace(/[.:/]/g, '\\$&')}: report not sent: HTTP 401: .*the API token is unknown`));
    assert.ok(!refused.stderr.includes('never-issued'), 'the token is not printed');
    assert.equal((await storedReports('scan')).length, before);
  });

  it('refuses --server without a token before doing any work', async () => {
    const home = await tempHome('nomine-e2e-upload-notoken-');
    homes.push(home);
    const result = await runCli(['scan', 'rootfs:/nonexistent', '--server', server.url], { home });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /needs an API token of role ingest: give --token-file/);
  });
});
