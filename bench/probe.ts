/**
 * `npm run bench:probe`: probe 1,000 loopback endpoints — open (answering as an anonymous Kubernetes API server),
 * closed, and hanging (accepting, never answering) — spread over many 127.0.x.y addresses. The servers run in a
 * child process, so the figures are the prober's own: wall time, peak RSS, and open file descriptors
 * (/proc/self/fd) before and after, which must match (no leaked sockets). Results go to bench/results/probe.json.
 *
 * Usage: node --import tsx bench/probe.ts [--open N] [--closed N] [--hanging N] [--concurrency N] [--rate N] [--timeout MS]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadProbeCredentials } from '../src/probe/probe-credentials.ts';
import { defaultProbeLimits } from '../src/probe/probe-limits.ts';
import { probes } from '../src/probe/probes/index.ts';
import { runProbe } from '../src/probe/run-probe.ts';
import { kubeApiHandler, serveHang, serveHttp, type TestServer } from '../test/helpers/probe-servers.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    open: { type: 'string', default: '400' },
    closed: { type: 'string', default: '400' },
    hanging: { type: 'string', default: '200' },
    // The product's defaults, so the figure is what a user gets; override to explore.
    concurrency: { type: 'string', default: String(defaultProbeLimits.concurrency) },
    rate: { type: 'string', default: String(defaultProbeLimits.requestsPerSecond) },
    timeout: { type: 'string', default: String(defaultProbeLimits.requestTimeoutMs) },
  },
});

/** Address i of the bench: 127.0.<1 + i/250>.<1 + i%250>, so endpoints sit on many loopback addresses. */
function address(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

if (values.serve) {
  // Child: start the servers and report where they listen.
  const [open, hanging] = values.serve.split(',').map(Number) as [number, number];
  const servers: TestServer[] = [];
  for (let i = 0; i < open; i++) servers.push(await serveHttp(kubeApiHandler({ anonymous: true }), { host: address(i) }));
  for (let i = 0; i < hanging; i++) servers.push(await serveHang({ host: address(open + i) }));
  process.send?.(servers.map((server) => server.name));
  process.on('message', async () => {
    await Promise.all(servers.map((server) => server.stop()));
    process.exit(0);
  });
} else {
  const open = Number(values.open);
  const closed = Number(values.closed);
  const hanging = Number(values.hanging);
  const openFds = () => readdirSync('/proc/self/fd').length;
  const child = fork(new URL(import.meta.url).pathname, ['--serve', `${open},${hanging}`], { execArgv: ['--import', 'tsx'] });
  const listening = await new Promise<string[]>((resolve) => child.once('message', (names) => resolve(names as string[])));
  // Closed: addresses past the servers', on a port nothing listens on.
  const closedTargets = Array.from({ length: closed }, (_, i) => `${address(open + hanging + i)}:9`);
  const targets = [...listening, ...closedTargets];
  const credentials = await loadProbeCredentials();

  const fdsBefore = openFds();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const report = await runProbe({
    targets,
    probes: Object.values(probes),
    credentials,
    limits: { ...defaultProbeLimits, concurrency: Number(values.concurrency), requestsPerSecond: Number(values.rate), requestTimeoutMs: Number(values.timeout) },
    tool: { name: 'nomine', version: 'bench' },
  });
  const wallMs = performance.now() - started;
  // Sockets closed by destroy() are released on the next turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fdsAfter = openFds();
  const result = {
    endpoints: targets.length,
    mix: { open, closed, hanging },
    settings: { concurrency: Number(values.concurrency), requestsPerSecond: Number(values.rate), requestTimeoutMs: Number(values.timeout) },
    wallMs: Math.round(wallMs),
    endpointsPerSecond: Math.round((targets.length / wallMs) * 1000),
    peakRssMiB: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    rssBeforeMiB: Math.round((rssBefore / 1024 / 1024) * 10) / 10,
    fdsBefore,
    fdsAfter,
    summary: report.summary,
    failingChecks: report.endpoints.flatMap((endpoint) => endpoint.outcomes.filter((outcome) => outcome.status === 'fail')).length,
  };
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/probe.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
