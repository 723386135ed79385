import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrap } from './auth/setup-link.ts';
import { buildServer } from './build-server.ts';
import { openServerStore, type ServerStore } from './server-store.ts';

describe('serving the web UI', () => {
  let home: string;
  let root: string;
  let db: ServerStore;
  let app: FastifyInstance;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'nomine-web-ui-'));
    root = join(home, 'web');
    await mkdir(join(root, 'assets'), { recursive: true });
    await writeFile(join(root, 'index.html'), '<!doctype html><title>nomine console</title><script type="module" src="/assets/app-1a2b3c.js"></script>');
    await writeFile(join(root, 'assets/app-1a2b3c.js'), 'console.log("app")');
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    db = await openServerStore(home);
    await bootstrap(db, { now: Date.now(), setupLinkTtlMs: 60_000 });
    app = await buildServer({ db, webRoot: root });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await db.destroy();
    await rm(home, { recursive: true, force: true });
  });

  it('answers page paths with the app, never cached, under a CSP that allows its own scripts only', async () => {
    for (const url of ['/', '/setup', '/entities/agent-1/c-web-1', '/alerts?rule=drift']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.match(response.body, /<title>nomine console<\/title>/);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache', url);
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-eval/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'plain HTTP on loopback must not send asset requests to https');
    }
  });

  it('caches hashed assets for a year and other files not at all', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/app-1a2b3c.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.body, 'console.log("app")');
    assert.equal((await app.inject({ method: 'GET', url: '/favicon.svg' })).headers['cache-control'], 'no-cache');
  });

  it('keeps 404s for missing files and API paths, and the API working beside the app', async () => {
    for (const url of ['/assets/old-chunk-9z8y7x.js', '/api/nothing', '/api']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error.code, 'not-found');
    }
    assert.equal((await app.inject({ method: 'POST', url: '/somewhere' })).statusCode, 404);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/setup' })).json(), { setupNeeded: true });
    assert.equal((await app.inject({ method: 'GET', url: '/api/overview' })).statusCode, 401);
  });

  it('serves nothing outside its directory', async () => {
    await writeFile(join(home, 'secret.txt'), 'do not serve');
    for (const url of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await app.inject({ method: 'GET', url });
      assert.doesNotMatch(response.body, /do not serve/, url);
    }
  });
});
