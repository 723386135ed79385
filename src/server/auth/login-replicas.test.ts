/**
 * Two console replicas behind a load balancer share one store (PostgreSQL in production; the run's backend here):
 * login throttling must count attempts on both together, or each replica would allow the whole limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../build-server.ts';
import { openServerStore, type ServerStore } from '../server-store.ts';
import { adminPassword, startTestServer, withAdmin, type TestServer } from '../testing/test-server.ts';

const limits = { loginAttemptsPerIp: 4, loginFailuresPerUser: 3 };

describe('login throttling across replicas', () => {
  let first: TestServer;
  let secondDb: ServerStore;
  let second: FastifyInstance;
  before(async () => {
    first = await startTestServer(limits);
    await withAdmin(first);
    // The second replica: its own process state and connection, the same store.
    secondDb = await openServerStore(first.store.target);
    second = await buildServer({ db: secondDb, now: () => first.clock.now, limits });
    await second.ready();
  });
  after(async () => {
    await second.close();
    await secondDb.destroy();
    await first.close();
  });

  const attempt = (app: FastifyInstance, username: string, password: string, ip: string) =>
    app.inject({ method: 'POST', url: '/api/login', payload: { username, password }, remoteAddress: ip });

  it('locks a username after the failures allowed in all, wherever they landed', async () => {
    const replicas = [first.app, second, first.app];
    for (const [i, app] of replicas.entries()) {
      assert.equal((await attempt(app, 'admin', 'wrong password, try again', `10.1.0.${i + 1}`)).statusCode, 401);
    }
    for (const app of [second, first.app]) {
      const locked = await attempt(app, 'admin', adminPassword, '10.1.0.9');
      assert.equal(locked.statusCode, 429, 'even the right password waits until the window ends');
      assert.ok(Number(locked.headers['retry-after']) > 0);
    }
    first.clock.now += 60_000;
    assert.equal((await attempt(second, 'admin', adminPassword, '10.1.0.9')).statusCode, 200);
  });

  it('limits one address to its attempts in all, wherever they landed', async () => {
    const ip = '10.2.0.1';
    for (let i = 0; i < limits.loginAttemptsPerIp; i += 1) {
      const app = i % 2 === 0 ? first.app : second;
      assert.equal((await attempt(app, `nobody-${i}`, 'not a password at all', ip)).statusCode, 401);
    }
    assert.equal((await attempt(second, 'admin', adminPassword, ip)).statusCode, 429);
    assert.equal((await attempt(first.app, 'admin', adminPassword, ip)).statusCode, 429);
    assert.equal((await attempt(first.app, 'admin', adminPassword, '10.2.0.2')).statusCode, 200, 'other addresses are not affected');
  });
});
