/**
 * `make demo` as a newcomer runs it: scripts/demo.ts unattended (no terminal, standard input closed). The scan part
 * builds an app image with a disguised miner, loads it into Docker when there is one, scans it with the built CLI and
 * explains; the runtime part learns a workload, lets it enforce on its own and kills a miner dropped into it (eBPF
 * and Docker), or, in the fallback, alerts on a miner on the host with the /proc sensor and says so. Each run must
 * exit 0, show what a person watching needs to see, and leave nothing behind.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { dockerUnavailable } from '../helpers/image-builder.ts';
import { describeRun, runNode, tempHome } from '../helpers/run-cli.ts';

const run = promisify(execFile);
const dockerMissing = await dockerUnavailable();
const hasBpftrace = await run('bpftrace', ['--version']).then(() => true, () => false);
const containerStoryPossible = !dockerMissing && process.getuid?.() === 0 && hasBpftrace;

async function dockerNamesLeft(pattern: RegExp): Promise<string[]> {
  if (dockerMissing) return [];
  const containers = (await run('docker', ['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n');
  const images = (await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
  return [...containers, ...images].filter((name) => pattern.test(name));
}

const chromiumPath = '/usr/bin/chromium';
const exists = (path: string) => access(path).then(() => true, () => false);

/** Logs in to the demo's console as a person would and reads what it holds. */
async function readConsole(url: string, password: string) {
  const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  assert.equal(login.status, 200, 'the printed login works');
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`, { headers: { cookie } });
    assert.equal(response.status, 200, `GET ${path}`);
    return response.json();
  };
  const { alerts } = (await get('/api/alerts?limit=200')) as { alerts: { rule: string; action: { taken: string } }[] };
  const { reports } = (await get('/api/reports')) as { reports: { kind: string }[] };
  // And as a person sees it: the blocked miner's alert in the console's alert list, in a real browser.
  if (existsSync(chromiumPath)) {
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${url}/login`);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts', exact: true }).click();
      const row = page.getByTestId('alert-table').locator('tr', { hasText: containerStoryPossible ? 'ran /tmp/kworker' : ':3333/tcp' });
      await row.first().waitFor({ timeout: 20_000 });
      if (containerStoryPossible) assert.match((await row.first().textContent()) ?? '', /killed/);
    } finally {
      await browser.close();
    }
  }
  return { alerts, reports };
}

describe('the demo', { timeout: 300_000 }, () => {
  const homes: string[] = [];
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('finds the hidden miners in the image, then kills a miner dropped into a learned, enforcing workload and explains why', async () => {
    // The demo sets its own NOMINE_HOME for its scans and its agent; this one only keeps anything else away from the default.
    const home = await tempHome();
    homes.push(home);
    // The demo ends with its console up: log in with what it printed, read the story from the API, then Ctrl-C it.
    let consoleSeen: Promise<{ alerts: { rule: string; action: { taken: string } }[]; reports: { kind: string }[] }> | undefined;
    const result = await runNode(['--import', 'tsx', 'scripts/demo.ts'], {
      home,
      timeoutMs: 300_000,
      env: { NOMINE_DEMO_CONSOLE_SECONDS: '120' },
      onStdout: (stdout, signal) => {
        const url = /URL: {4}(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
        const password = /login: {2}admin \/ (\S+)/.exec(stdout)?.[1];
        if (consoleSeen || !url || !password || !/stays up for/.test(stdout)) return;
        consoleSeen = readConsole(url, password).finally(() => signal('SIGINT'));
      },
    });
    const out = result.stdout;
    assert.equal(result.code, 0, describeRun(result));
    assert.ok(consoleSeen, `the demo printed the console's URL and login:\n${out.slice(-1500)}`);
    const seen = await consoleSeen;
    assert.deepEqual(seen.reports.map((report) => report.kind).sort(), dockerMissing ? ['scan'] : ['audit', 'scan']);
    if (containerStoryPossible) assert.ok(seen.alerts.some((alert) => alert.rule === 'drift' && alert.action.taken === 'killed'), JSON.stringify(seen.alerts));
    else assert.ok(seen.alerts.some((alert) => alert.rule === 'mining-pool'), JSON.stringify(seen.alerts));
    assert.match(out, /holds: {2}.*1 scan report\(s\).*[1-9]\d* alert\(s\) from 1 node\(s\)/);
    assert.match(out, /\/usr\/local\/lib\/kv\/kv-compactd/);
    assert.match(out, /\/tmp\/kswapd0/);
    if (containerStoryPossible) {
      assert.match(out, /sensor: ebpf, because/);
      assert.match(out, /\[agent\] profile wl-[0-9a-f]+ \(container:nomine-demo-web-p\d+\) is now enforcing, mode alert: [\d.]+ s after the container started/);
      assert.match(out, /changed in the store: mode prevent, enforcing/);
      assert.match(out, /exit code 137: 128 \+ 9, the miner was killed with SIGKILL/);
      assert.match(out, /pool simulator: 0 stratum logins/);
      assert.match(out, /ALERT drift \(high\): .*ran \/tmp\/kworker, which is not part of the image/);
      assert.match(out, /action: {2}killed: process \d+ was killed/);
      assert.match(out, /"defaultAction": "SCMP_ACT_ERRNO"/, 'the seccomp teaser');
      assert.match(out, /Demo complete: .*killed before its pool login/);
    } else {
      assert.match(out, /FALLBACK: /);
      assert.match(out, /Demo complete: .*fallback/);
    }
    assert.doesNotMatch(out, /did NOT/);
    const container = /--name (nomine-demo-web-p\d+)/.exec(out)?.[1];
    if (container) assert.deepEqual(await dockerNamesLeft(new RegExp(`^${container}$|^nomine-demo/(web|kv-store):`)), [], 'containers and images removed');
  });

  it('falls back to the /proc sensor and host processes when asked, says so, and alerts on the miner', async () => {
    const home = await tempHome();
    homes.push(home);
    const result = await runNode(['--import', 'tsx', 'scripts/demo-runtime.ts'], { home, timeoutMs: 120_000, env: { NOMINE_DEMO_FORCE_FALLBACK: '1' } });
    const out = result.stdout;
    assert.equal(result.code, 0, describeRun(result));
    assert.match(out, /FALLBACK: NOMINE_DEMO_FORCE_FALLBACK=1 asks for the fallback\. Showing the \/proc sensor on host processes instead/);
    assert.match(out, /cannot stop a miner before its first pool connection/);
    assert.match(out, /sensor: procfs, because \/proc polling/);
    assert.match(out, /profile wl-[0-9a-f]+ \(host\) is now enforcing, mode learn/);
    assert.match(out, /ALERT mining-pool \(critical\): host \(host\) connected to 127\.0\.0\.\d+:3333\/tcp, a port mining pools use for stratum/);
    assert.match(out, /seen: {4}connect to 127\.0\.0\.\d+:3333\/tcp, pid \d+ \(kworker\)/);
    assert.match(out, /action: {2}none: mode learn: alert only/);
    assert.match(out, /the demo stops the miner itself \(the agent only alerts here\)/);
    assert.match(out, /Runtime demo complete/);
    assert.doesNotMatch(out, /did NOT/);
    const work = /\$ (\/\S+)\/kworker /.exec(out)?.[1];
    assert.ok(work, 'the miner\'s path is shown');
    assert.equal(await exists(work), false, 'the temporary directory (miner, NOMINE_HOME) is removed');
    const minerPid = Number(/\(pid (\d+)\)/.exec(out.slice(out.indexOf('kworker -o')))?.[1]);
    assert.ok(minerPid > 0);
    assert.equal(await exists(`/proc/${minerPid}/exe`) && (await run('readlink', [`/proc/${minerPid}/exe`]).then((r) => r.stdout.includes('kworker'), () => false)), false, 'the miner is not running any more');
  });
});
