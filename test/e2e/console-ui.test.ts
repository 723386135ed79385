/**
 * The console's web UI in a real headless Chromium (Debian's, driven by playwright-core) against a real
 * `nomine server` process on 127.0.0.1: first-run setup through the printed link, the fleet an enrolled agent
 * reports, approving a profile and changing its mode (checked through the API and the agent's sync), an alert
 * arriving while the alert list is open, a scan report's evidence, a viewer's read-only pages and a wrong password.
 * The agent here is the API an agent uses (enrol, batches, sync); the agent process itself has its own tests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Profile } from '../../src/profile/profile.ts';
import { profileIdFor } from '../../src/profile/workload-key.ts';
import { callJson, ensureWebBuild, startConsoleServer, type ConsoleServer } from '../helpers/console-server.ts';
import { repositoryRoot, tempHome } from '../helpers/run-cli.ts';

const chromiumPath = '/usr/bin/chromium';
const password = 'correct horse battery staple';
const built = existsSync(join(repositoryRoot, 'dist/cli/run.js'));
const skip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath} (apt-get install chromium)` : !built ? 'build first (npm run build)' : false;

const key = { imageDigest: `sha256:${'4d'.repeat(32)}`, workload: 'compose:shop/web' };
const profileId = profileIdFor(key);

function webProfile(now: number): Profile {
  return {
    id: profileId,
    key,
    image: 'shop-web:1.4',
    mode: 'alert',
    phase: 'learning',
    learningStartedAt: now - 600_000,
    lastNewBehaviourAt: now - 60_000,
    selector: { app: 'web' },
    allow: {
      processes: [
        { exe: '/usr/sbin/nginx', sha256: ['aa'.repeat(32)], parents: ['/sbin/tini'], source: 'learned', firstSeen: now - 600_000 },
        { exe: '/app/server', sha256: ['bb'.repeat(32)], parents: ['/sbin/tini'], source: 'learned', firstSeen: now - 300_000 },
      ],
      egress: [{ address: '10.0.0.5', port: 5432, protocol: 'tcp', source: 'learned', firstSeen: now - 300_000 }],
      listen: [{ port: 8080, protocol: 'tcp', source: 'learned', firstSeen: now - 600_000 }],
      fileWrites: [{ pattern: '/var/log/nginx/*', source: 'learned', firstSeen: now - 600_000 }],
      syscalls: ['accept4', 'read', 'write'],
      cpu: { histogram: [10, 4], bucketCores: 0.05, samples: 14, quantileCores: 0.1 },
    },
    revision: 3,
  };
}

/** Follows a link in the sidebar (pages link to the same places in their own words). */
function nav(page: Page, name: string): Promise<void> {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

describe('the console in a browser', { skip, timeout: 240_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let home: string;
  let adminToken: string;
  let agent: { agentId: string; credential: string };
  let admin: Page;

  const api = (path: string, options: Parameters<typeof callJson>[1] = {}) => callJson(`${server.url}${path}`, { bearer: adminToken, ...options });
  const deliver = (batch: Record<string, unknown>) => callJson(`${server.url}/api/agents/batches`, { method: 'POST', bearer: agent.credential, body: { sentAt: Date.now(), ...batch } });

  before(async () => {
    ensureWebBuild();
    home = await tempHome('nomine-e2e-ui-');
    server = await startConsoleServer(home);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    if (server) assert.equal(await server.stop(), 0, server.output.stderr);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('creates the first admin through the setup link it printed, then shows an overview that says how to enrol a node', async () => {
    assert.ok(server.setupLink, server.output.stdout);
    assert.ok(server.setupLink.startsWith(`${server.url}/setup#token=`));
    admin = await (await browser.newContext()).newPage();
    await admin.goto(server.url);
    // Before setup every page leads to the setup page.
    await admin.waitForURL(/\/setup$/);
    await admin.goto(server.setupLink);
    await admin.getByRole('heading', { name: 'Create the first admin' }).waitFor();
    assert.doesNotMatch(admin.url(), /token=/, 'the setup token is removed from the address bar');
    await admin.getByLabel('Password', { exact: true }).fill(password);
    await admin.getByLabel('Repeat the password').fill(password);
    await admin.getByRole('button', { name: 'Create admin and log in' }).click();
    await admin.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(await admin.getByTestId('whoami').textContent(), 'admin');
    await admin.getByText('Enrol your first node').waitFor();

    // An API token for the rest of the test's own calls, made with the browser's session and CSRF token.
    adminToken = await admin.evaluate(async () => {
      const me = (await (await fetch('/api/me')).json()) as { csrfToken: string };
      const answer = await fetch('/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken }, body: JSON.stringify({ name: 'e2e', role: 'admin' }) });
      return ((await answer.json()) as { token: string }).token;
    });
    assert.match(adminToken, /^nmn_/);
  });

  it('shows the entity and learned profile an enrolled agent reports, and approves the profile', async () => {
    const join = await api('/api/join-tokens', { method: 'POST', body: { name: 'e2e nodes', ttlSeconds: 600 } });
    assert.equal(join.status, 201, JSON.stringify(join.json));
    const enrolled = await callJson(`${server.url}/api/agents/enrol`, { method: 'POST', body: { joinToken: join.json.token, nodeName: 'node-e2e', version: '0.1.0' } });
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    agent = enrolled.json;
    const now = Date.now();
    const delivered = await deliver({
      batchId: 'e2e-1',
      entities: [
        { id: 'c-web-1', kind: 'container', name: 'web-1', image: 'shop-web:1.4', imageDigest: key.imageDigest, workload: key.workload, profileId, document: { name: 'web-1', labels: { app: 'web' } } },
        { id: 'host', kind: 'host', name: 'node-e2e', document: { name: 'node-e2e' } },
      ],
      profiles: [{ id: profileId, revision: 3, document: webProfile(now) }],
      eventSummaries: [{ entityId: 'c-web-1', windowStart: now - 60_000, windowEnd: now, counts: { exec: 2, connect: 31 } }],
    });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.json));

    await nav(admin, 'Entities');
    await admin.getByRole('link', { name: 'web-1' }).click();
    await admin.getByRole('heading', { name: /web-1/ }).waitFor();
    const processes = admin.getByTestId('allow-processes');
    await processes.getByText('/usr/sbin/nginx').waitFor();
    assert.match((await processes.textContent()) ?? '', /node-e2e/, 'each allowance names the node that learned it');
    await admin.getByRole('tab', { name: /Network/ }).click();
    await admin.getByTestId('allow-listen').getByText('8080').waitFor();

    const before = (await api(`/api/profiles/${profileId}`)).json;
    assert.equal(before.phase, 'learning');
    await admin.getByRole('button', { name: 'Approve', exact: true }).click();
    await admin.getByRole('button', { name: 'Approved' }).waitFor();
    await admin.getByTestId('profile-phase').getByText('enforcing').waitFor();
    const after = (await api(`/api/profiles/${profileId}`)).json;
    assert.equal(after.phase, 'enforcing');
    assert.equal(after.approvedBy, 'admin');
    assert.ok(after.revision > before.revision, `revision ${before.revision} → ${after.revision}`);
    await admin.getByTestId('history').getByText('approved').waitFor();
  });

  it('changes the mode after confirming; the API and the agent’s sync see who set it, at a new revision', async () => {
    const before = (await api(`/api/profiles/${profileId}`)).json;
    assert.equal(before.modeSetBy, null);
    await admin.getByRole('radio', { name: 'prevent' }).click();
    await admin.getByRole('button', { name: 'Switch to prevent' }).click();
    await admin.getByTestId('profile-mode').getByText('set by admin').waitFor();
    assert.equal(await admin.getByRole('radio', { name: 'prevent' }).getAttribute('aria-checked'), 'true');

    const after = (await api(`/api/profiles/${profileId}`)).json;
    assert.equal(after.mode, 'prevent');
    assert.match(after.modeSetBy, /^user:/);
    assert.ok(after.revision > before.revision);
    const sync = await callJson(`${server.url}/api/agents/sync?since=${before.revision}`, { bearer: agent.credential });
    assert.equal(sync.status, 200, JSON.stringify(sync.json));
    const synced = sync.json.profiles.find((profile: { id: string }) => profile.id === profileId);
    assert.equal(synced?.mode, 'prevent');
    assert.equal(synced?.modeSetBy, after.modeSetBy);
  });

  it('shows an alert an agent delivers while the alert list is open, without a reload', async () => {
    await nav(admin, 'Alerts');
    await admin.getByText('No alerts yet').waitFor();
    // Gone after a reload: proves the row arrived through polling.
    await admin.evaluate(() => ((globalThis as unknown as { stillSamePage: boolean }).stillSamePage = true));
    const now = Date.now();
    const delivered = await deliver({
      batchId: 'e2e-2',
      alerts: [
        {
          id: '9b2f6d1e-0000-4000-8000-00000000e2e1',
          dedupeKey: 'miner-executable|compose:shop/web|/tmp/xmrig',
          rule: 'miner-executable',
          severity: 'critical',
          message: 'web-1 (container c-web-1) ran /tmp/xmrig, a known miner; the process was killed.',
          entity: { id: 'c-web-1', name: 'web-1' },
          workload: key.workload,
          profileId,
          image: 'shop-web:1.4',
          seen: 'exec /tmp/xmrig (sha256 5f1c…) by /bin/sh, pid 4242',
          allowed: '2 executables: /usr/sbin/nginx, /app/server',
          mode: 'prevent',
          phase: 'enforcing',
          action: { taken: 'killed', reason: 'mode prevent: SIGKILL in the kernel' },
          firstAt: now,
          lastAt: now,
          count: 1,
        },
      ],
    });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.json));
    const row = admin.getByTestId('alert-table').locator('tr', { hasText: 'ran /tmp/xmrig' });
    await row.waitFor({ timeout: 20_000 });
    assert.equal(await admin.evaluate(() => (globalThis as unknown as { stillSamePage?: boolean }).stillSamePage), true);
    assert.match((await row.textContent()) ?? '', /critical.*Miner executable.*web-1.*killed/s);
    await row.click();
    await admin.getByText('exec /tmp/xmrig (sha256 5f1c…) by /bin/sh, pid 4242').waitFor();
  });

  it('shows a scan report file by file with the evidence that flagged each', async () => {
    const report = JSON.parse(readFileSync(join(repositoryRoot, 'test/fixtures/reports/scan.json'), 'utf8')) as Record<string, unknown>;
    const ingested = await api('/api/reports/scan', { method: 'POST', headers: { 'idempotency-key': 'e2e-scan' }, body: { kind: 'scan', tool: { name: 'nomine', version: '0.1.0' }, generatedAt: new Date().toISOString(), report } });
    assert.equal(ingested.status, 201, JSON.stringify(ingested.json));
    await nav(admin, 'Image scans');
    await admin.getByTestId('report-table').getByRole('link').first().click();
    const file = admin.getByTestId('scan-file').filter({ hasText: '/usr/bin/start-miner.sh' });
    await file.waitFor();
    assert.match((await file.textContent()) ?? '', /malicious/);
    await file.getByText('contains stratum URL "stratum+tcp://pool.supportxmr.com:3333"', { exact: false }).waitFor();
    await file.getByText('keyword.monero-wallet').waitFor();
  });

  it('gives a viewer the same pages without any action', async () => {
    const created = await api('/api/users', { method: 'POST', body: { username: 'vera', password, role: 'viewer' } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const viewer = await (await browser.newContext()).newPage();
    await viewer.goto(`${server.url}/entities/${encodeURIComponent(agent.agentId)}/c-web-1`);
    // Not logged in: the login page, then back to the page asked for.
    await viewer.waitForURL(/\/login$/);
    await viewer.getByLabel('Username').fill('vera');
    await viewer.getByLabel('Password').fill(password);
    await viewer.getByRole('button', { name: 'Log in' }).click();
    await viewer.getByTestId('allow-processes').getByText('/usr/sbin/nginx').waitFor();
    await viewer.getByTestId('profile-actions-readonly').waitFor();
    assert.equal(await viewer.getByRole('button', { name: /^(Approve|Approved|Relearn)$/ }).count(), 0);
    assert.equal(await viewer.getByRole('radio').count(), 0);
    await viewer.getByTestId('profile-mode').getByText('prevent').waitFor();
    await viewer.context().close();
  });

  it('says the password is wrong and stays on the login page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('Wrong username or password.').waitFor();
    assert.match(page.url(), /\/login$/);
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await page.context().close();
  });
});
