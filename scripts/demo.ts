/**
 * `make demo`: build an ordinary application image (a key-value daemon on busybox), slip a disguised miner-like
 * program into it the way an attacker who can push to a registry would, load it into the real Docker Engine, scan
 * it with nomine, and say what was found and why. Then the runtime story (scripts/demo-runtime.ts): a workload is
 * learned in seconds, enforces on its own, and a miner dropped into it is killed, with an alert saying why. The
 * console (`nomine server`, embedded SQLite) runs throughout and receives the scan, an audit, the node's profiles
 * and alerts; the demo ends by printing its URL and a login made for this run, and keeps it up until Ctrl-C on a
 * terminal (or NOMINE_DEMO_CONSOLE_SECONDS, default 0 without a terminal). Exits 0 when the demo showed what it should.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMinerFixtures } from '../test/helpers/fixtures.ts';
import { busyboxApplets, dockerUnavailable, writeDockerArchive } from '../test/helpers/image-builder.ts';
import { startDemoConsole, type DemoConsole } from './demo-console.ts';
import { runRuntimeDemo } from './demo-runtime.ts';

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
const work = await mkdtemp(join(tmpdir(), 'nomine-demo-'));
const image = 'nomine-demo/kv-store:1.0';
const consoleWork = await mkdtemp(join(tmpdir(), 'nomine-demo-console-'));
let console_: DemoConsole | undefined;

try {
  say('0. Starting the console: nomine server on 127.0.0.1 (embedded SQLite), an admin with a password made for this run');
  console_ = await startDemoConsole(consoleWork);
  console.log(`   ${console_.url}: the scan, an audit, and the runtime agent below all report there`);

  say('1. Building miner-like fixtures from test/fixtures with gcc (RandomX hashing, stratum JSON-RPC)');
  const fixtures = await buildMinerFixtures({ benignCount: 0 });
  const app = fixtures.benign.find((fixture) => fixture.name === 'kv-daemon')!;
  const miner = fixtures.miners.find((fixture) => fixture.disguise === 'obfuscated')!;
  const dropped = fixtures.miners.find((fixture) => fixture.disguise === 'renamed' && fixture.kind === 'elf')!;
  console.log(`   ordinary application: kv-daemon; disguised miner: ${miner.name} (${miner.family}, strings XOR-encoded, stripped)`);

  say(`2. Building the image ${image}: 4 layers`);
  const layers = [
    { files: [{ path: 'bin/busybox', content: await readFile('/bin/busybox'), mode: 0o755 }, { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' }], dirs: ['bin', 'etc', 'tmp'], symlinks: busyboxApplets.map((applet) => ({ path: `bin/${applet}`, target: 'busybox' })) },
    { dirs: ['usr', 'usr/local', 'usr/local/bin', 'etc/kv'], files: [{ path: 'usr/local/bin/kv-daemon', content: await readFile(app.path), mode: 0o755 }, { path: 'etc/kv/kv.conf', content: 'port=6380\n' }] },
    // The tampered "update": the miner hides as a helper of the app, started next to the real daemon.
    { dirs: ['usr/local/lib', 'usr/local/lib/kv'], files: [
      { path: 'usr/local/lib/kv/kv-compactd', content: await readFile(miner.path), mode: 0o755 },
      { path: 'usr/local/bin/start.sh', content: '#!/bin/sh\n/usr/local/lib/kv/kv-compactd --background >/dev/null 2>&1 &\nexec /usr/local/bin/kv-daemon\n', mode: 0o755 },
      { path: 'tmp/kswapd0', content: await readFile(dropped.path), mode: 0o755 },
    ] },
    // A later layer deletes the dropper's copy; it is still shipped in the image and nomine still reports it.
    { whiteouts: ['tmp/kswapd0'] },
  ];
  console.log('   layer 0: busybox base   layer 1: kv-daemon app   layer 2: "update" with the miner   layer 3: deletes /tmp/kswapd0');
  const archive = join(work, 'kv-store.tar');
  await writeDockerArchive(archive, { layers, repoTags: [image], config: { config: { Entrypoint: ['/usr/local/bin/start.sh'], Env: ['PATH=/usr/local/bin:/bin'] } } });

  let source = `docker-archive:${archive}`;
  const dockerMissing = await dockerUnavailable();
  if (!dockerMissing) {
    const load = spawnSync('docker', ['load', '-i', archive], { encoding: 'utf8' });
    if (load.status === 0) source = `docker-daemon:${image}`;
    console.log(`   ${load.status === 0 ? load.stdout.trim() : `docker load failed: ${load.stderr.trim()}`}`);
  } else console.log(`   (no Docker Engine: ${dockerMissing}; scanning the docker save tarball instead)`);

  const env = { ...process.env, NOMINE_HOME: join(work, 'home') };
  say(`3. nomine scan ${source}`);
  const toConsole = ['--server', console_.url, '--token-file', console_.tokenFile];
  const first = spawnSync(process.execPath, ['bin/nomine.js', 'scan', source, ...toConsole], { stdio: ['ignore', 'inherit', 'inherit'], env });
  console.log(`   exit code ${first.status}: ${first.status === 1 ? 'findings at or above --fail-on medium (a CI pipeline would stop here)' : 'unexpected'}`);

  say('4. The same scan as JSON, for machines (second run: every layer comes from the layer cache)');
  const json = spawnSync(process.execPath, ['bin/nomine.js', 'scan', source, '--json'], { encoding: 'utf8', env });
  const report = JSON.parse(json.stdout) as { findings: { path: string; verdict: string; severity: string; presentInFinalImage: boolean }[]; images: { layers: { fromCache: boolean }[] }[] };
  for (const finding of report.findings) console.log(`   ${finding.severity.padEnd(8)} ${finding.verdict.padEnd(10)} ${finding.path}${finding.presentInFinalImage ? '' : '  (deleted by a later layer, still shipped)'}`);
  const cached = report.images[0]!.layers.filter((layer) => layer.fromCache).length;
  console.log(`   ${cached}/${report.images[0]!.layers.length} layers served from the cache in $NOMINE_HOME/nomine.db`);

  const paths = report.findings.map((finding) => finding.path);
  const scanOk = first.status === 1 && paths.includes('/usr/local/lib/kv/kv-compactd') && paths.includes('/tmp/kswapd0') && !paths.includes('/usr/local/bin/kv-daemon');
  console.log(scanOk ? '   the disguised miner and the deleted dropper were found; the real application was left alone' : '   the scan did NOT find what it should');
  if (!dockerMissing) {
    say('4b. nomine audit docker: the engine and its containers against CIS Docker 1.6, sent to the console');
    const audit = spawnSync(process.execPath, ['bin/nomine.js', 'audit', 'docker', '--json', ...toConsole], { encoding: 'utf8', env });
    const summary = (JSON.parse(audit.stdout || '{}') as { summary?: Record<string, number> }).summary;
    console.log(`   exit code ${audit.status}; ${summary ? Object.entries(summary).map(([key, value]) => `${key} ${value}`).join(', ') : audit.stderr.trim()}`);
    spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
  }
  // Removed now: a Ctrl-C during the runtime part exits from there.
  await rm(work, { recursive: true, force: true });

  const demoConsole = console_;
  const runtime = await runRuntimeDemo({
    firstStep: 5,
    console: {
      url: demoConsole.url,
      joinTokenFile: demoConsole.joinTokenFile,
      async delivered() {
        for (let waited = 0; waited < 30_000; waited += 500) {
          const held = await demoConsole.contents();
          if (held.alerts > 0 && held.profiles > 0) {
            return `console: ${held.nodes} node, ${held.profiles} profile(s), ${held.alerts} alert(s), reports ${Object.entries(held.reports).map(([kind, count]) => `${kind} ${count}`).join(', ')}`;
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        throw new Error('the console did not receive the node\'s alert and profile within 30 s');
      },
    },
  });
  const ok = scanOk && runtime.ok;
  const stopped = runtime.story === 'container' ? 'a miner dropped into a running workload was killed before its pool login' : 'a miner started on the host was detected and alerted on (fallback: /proc sensor, alert only)';
  say(ok ? `Demo complete: the disguised miner and the deleted dropper were found in the image; ${stopped}.` : 'Demo did NOT show what it should: see the output above.');
  process.exitCode = ok ? 0 : 1;

  const held = await console_.contents();
  say('The console holds the story: open it in a browser');
  console.log(`   URL:    ${console_.url}/`);
  console.log(`   login:  admin / ${console_.adminPassword}   (made for this demo run; the console and its store go away when the demo ends)`);
  console.log(`   holds:  ${Object.entries(held.reports).map(([kind, count]) => `${count} ${kind} report(s)`).join(', ')}, ${held.profiles} profile(s), ${held.alerts} alert(s) from ${held.nodes} node(s)`);
  const seconds = process.env.NOMINE_DEMO_CONSOLE_SECONDS !== undefined ? Number(process.env.NOMINE_DEMO_CONSOLE_SECONDS) : process.stdin.isTTY ? Infinity : 0;
  if (seconds > 0) {
    console.log(Number.isFinite(seconds) ? `   the console stays up for ${seconds} s` : '   press Ctrl-C to stop the console');
    await new Promise<void>((resolve) => {
      const timer = Number.isFinite(seconds) ? setTimeout(resolve, seconds * 1000) : undefined;
      process.once('SIGINT', () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    });
  }
} finally {
  await console_?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(consoleWork, { recursive: true, force: true });
}
