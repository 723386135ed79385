/**
 * `make demo` as a newcomer runs it: scripts/demo.ts unattended (no terminal, standard input closed), which builds
 * an app image with a disguised miner, loads it into Docker when there is one, scans it with the built CLI and
 * explains. It must finish with exit 0 and name both hidden files.
 */
import { strict as assert } from 'node:assert';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { describeRun, runNode, tempHome } from '../helpers/run-cli.ts';

describe('the demo', { timeout: 240_000 }, () => {
  const homes: string[] = [];
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('runs unattended, finds the disguised miner and the deleted dropper, and says the demo is complete', async () => {
    // The demo sets its own NOMINE_HOME for its scans; this one only keeps anything else away from the default.
    const home = await tempHome();
    homes.push(home);
    const result = await runNode(['--import', 'tsx', 'scripts/demo.ts'], { home, timeoutMs: 200_000 });
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /\/usr\/local\/lib\/kv\/kv-compactd/, result.stdout);
    assert.match(result.stdout, /\/tmp\/kswapd0/, result.stdout);
    assert.match(result.stdout, /Demo complete/, result.stdout);
    assert.doesNotMatch(result.stdout, /did NOT show/);
  });
});
