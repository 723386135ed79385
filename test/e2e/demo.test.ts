/**
 * `make demo` as a newcomer runs it: scripts/demo.ts unattended (no terminal, standard input closed). The scan part
 * builds an app image with a disguised miner, loads it into Docker when there is one, scans it with the built CLI and
 * explains; the runtime part learns a workload, lets it enforce on its own and kills a miner dropped into it (eBPF
 * and Docker), or, in the fallback, alerts on a miner on the host with the /proc sensor and says so. Each run must
 * exit 0, show what a person watching needs to see, and leave nothing behind.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
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

const exists = (path: string) => access(path).then(() => true, () => false);

describe('the demo', { timeout: 300_000 }, () => {
  const homes: string[] = [];
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('finds the hidden miners in the image, then kills a miner dropped into a learned, enforcing workload and explains why', async () => {
    // The demo sets its own NOMINE_HOME for its scans and its agent; this one only keeps anything else away from the default.
    const home = await tempHome();
    homes.push(home);
    const result = await runNode(['--import', 'tsx', 'scripts/demo.ts'], { home, timeoutMs: 240_000 });
    const out = result.stdout;
    assert.equal(result.code, 0, describeRun(result));
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
