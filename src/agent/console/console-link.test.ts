import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { createProfile } from '../../profile/lifecycle.ts';
import type { Profile } from '../../profile/profile.ts';
import { ProfileStore } from '../../profile/profile-store.ts';
import { sessionHeaders, startTestServer, withAdmin, type TestServer } from '../../server/testing/test-server.ts';
import { openStore } from '../../store/open-store.ts';
import type { Database } from '../../store/schema.ts';
import type { Entity } from '../entity.ts';
import { createConsoleClient } from './console-client.ts';
import { consoleStateDir, createConsoleLink, type ConsoleLink } from './console-link.ts';
import { createEventSummaries } from './event-summaries.ts';

const host: Entity = { id: 'host', name: 'node-1', runtime: 'host', labels: {} };

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the console link', () => {
  let server: TestServer;
  let url: string;
  let home: string;
  let db: Kysely<Database>;
  let store: ProfileStore;
  let agent: { agentId: string; credential: string };
  before(async () => {
    server = await startTestServer();
    const admin = await withAdmin(server);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const token = (await server.app.inject({ method: 'POST', url: '/api/join-tokens', headers: sessionHeaders(admin), payload: { name: 'n', ttlSeconds: 600 } })).json().token;
    agent = await createConsoleClient({ server: url }).enrol({ joinToken: token, nodeName: 'node-1', version: '0.1.0' });
    home = await mkdtemp(join(tmpdir(), 'nomine-console-link-'));
    db = await openStore(home);
    store = new ProfileStore(db);
  });
  after(async () => {
    await db.destroy();
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  /** A link over this node's real profile store; the engine's two calls the link makes go to the store. */
  function link(server: string, profiles: Profile[] = []): { link: ConsoleLink; stop: () => Promise<void> } {
    const controller = new AbortController();
    const summaries = createEventSummaries();
    summaries.count('host', 'exec', Date.now());
    const instance = createConsoleLink({
      client: createConsoleClient({ server, credential: agent.credential }),
      home,
      agentId: agent.agentId,
      intervalMs: 30,
      registry: { entities: () => [host], subscribe: () => () => undefined },
      engine: {
        profiles: () => profiles,
        async applyRemote(id, update) {
          const current = await store.load(id);
          const outcome = update(current);
          if (!outcome) return;
          if (current) await store.update(outcome.profile, current, Date.now(), outcome.change);
          else await store.create(outcome.profile, Date.now());
        },
      },
      summaries,
      status: () => ({ pid: 1 }),
      log: () => undefined,
    });
    const running = instance.run(controller.signal);
    return { link: instance, stop: async () => (controller.abort(), running) };
  }

  it('keeps a batch on disk while the console is down, and sends that same batch once it is back', async () => {
    const pendingFile = join(consoleStateDir(home), 'pending-batch.json');
    const down = link('http://127.0.0.1:9');
    await until('a pending batch', () => existsSync(pendingFile));
    await until('a failed try', () => down.link.stats().failures > 0);
    await down.stop();
    const pending = JSON.parse(await readFile(pendingFile, 'utf8')) as { batchId: string; entities: Array<{ id: string }> };
    assert.deepEqual(pending.entities.map((entity) => entity.id), ['host']);

    // A new agent process (after a crash, say) sends the pending batch first, under its id.
    const up = link(url);
    await until('the pending batch delivered', async () => (await server.db.selectFrom('server_agent_batches').select('batch_id').where('batch_id', '=', pending.batchId).executeTakeFirst()) !== undefined);
    await until('a synced round', () => up.link.stats().batches >= 2);
    await up.stop();
    const entity = await server.db.selectFrom('server_entities').selectAll().where('agent_id', '=', agent.agentId).executeTakeFirstOrThrow();
    assert.equal(entity.name, 'node-1');
    assert.equal(existsSync(pendingFile), false);
  });

  it('answers a batch sent again after a crash as a replay, changing nothing', async () => {
    const pendingFile = join(consoleStateDir(home), 'pending-batch.json');
    const batch = { batchId: 'crashed-after-send', sentAt: Date.now(), entities: [], eventSummaries: [{ entityId: 'host', windowStart: 0, windowEnd: 10, counts: { exec: 5 } }], profiles: [], alerts: [] };
    await createConsoleClient({ server: url, credential: agent.credential }).postBatch(batch);
    await server.db.updateTable('server_event_summaries').set({ counts: '{"exec":6}' }).where('window_start', '=', 0).execute();
    // The process died before it removed the file: the next one finds it and sends it again.
    await writeFile(pendingFile, JSON.stringify(batch));
    const again = link(url);
    await until('the pending batch answered', () => !existsSync(pendingFile));
    await again.stop();
    const row = await server.db.selectFrom('server_event_summaries').select('counts').where('window_start', '=', 0).executeTakeFirstOrThrow();
    assert.equal(row.counts, '{"exec":6}', 'the replay did not apply the batch a second time');
  });

  it('sends its profiles and takes the fleet’s into the store, remembering the revision it applied', async () => {
    const mine = createProfile(host, 1_000, 'learn');
    const withPort: Profile = { ...mine, allow: { ...mine.allow, listen: [{ port: 7001, protocol: 'tcp', source: 'learned', firstSeen: 1_000 }] }, revision: 2 };
    await store.create(withPort, 1_000);
    const running = link(url, [withPort]);
    await until('a synced revision', () => running.link.stats().syncedRevision > 0);
    await running.stop();
    const fleet = await server.db.selectFrom('server_profiles').selectAll().where('id', '=', withPort.id).executeTakeFirstOrThrow();
    assert.match(fleet.document, /"port":7001/);
    const state = JSON.parse(await readFile(join(consoleStateDir(home), 'sync-state.json'), 'utf8'));
    assert.equal(state.agentId, agent.agentId);
    assert.equal(state.revision, Number(fleet.revision));
  });
});
