import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomineError } from '../core/errors.ts';
import { compareApiVersions, createDockerClient, resolveDockerSocket } from './docker-client.ts';

/** A stand-in engine on a unix socket: it answers like dockerd, so the client's HTTP handling is what is tested. */
async function fakeEngine(apiVersion: string, handler: (path: string) => { status: number; body: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(request.url ?? '');
    if (request.url === '/_ping') {
      response.writeHead(200, { 'Api-Version': apiVersion }).end('OK');
      return;
    }
    const answer = handler(request.url ?? '');
    response.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    seen,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('docker client', () => {
  it('speaks the engine API version when it is older than ours', async () => {
    const engine = await fakeEngine('1.41', () => ({ status: 200, body: '{"Id":"sha256:ab"}' }));
    const client = createDockerClient({ socketPath: engine.socketPath });
    try {
      assert.equal((await client.inspectImage('redis:7')).Id, 'sha256:ab');
      assert.deepEqual(engine.seen, ['/_ping', '/v1.41/images/redis%3A7/json']);
    } finally {
      await client.close();
      await engine.close();
    }
  });

  it('caps the version at the newest it knows', async () => {
    const engine = await fakeEngine('1.99', () => ({ status: 200, body: '{}' }));
    const client = createDockerClient({ socketPath: engine.socketPath });
    try {
      assert.equal(await client.apiVersion(), '1.45');
    } finally {
      await client.close();
      await engine.close();
    }
  });

  it('turns an engine error into a NomineError with the engine message and the part', async () => {
    const engine = await fakeEngine('1.41', () => ({ status: 404, body: '{"message":"No such image: nope:1"}' }));
    const client = createDockerClient({ socketPath: engine.socketPath });
    try {
      await assert.rejects(client.inspectImage('nope:1'), (error: unknown) => {
        assert.ok(error instanceof NomineError);
        assert.equal(error.code, 'not-found');
        assert.equal(error.part, 'image nope:1');
        assert.match(error.message, /No such image: nope:1/);
        return true;
      });
    } finally {
      await client.close();
      await engine.close();
    }
  });

  it('refuses an answer that is not JSON', async () => {
    const engine = await fakeEngine('1.41', () => ({ status: 200, body: '<html>' }));
    const client = createDockerClient({ socketPath: engine.socketPath });
    try {
      await assert.rejects(client.inspectImage('x'), (error: unknown) => error instanceof NomineError && error.code === 'invalid-input');
    } finally {
      await client.close();
      await engine.close();
    }
  });

  it('finds the socket in DOCKER_HOST', () => {
    assert.equal(resolveDockerSocket(undefined, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), '/run/user/1000/docker.sock');
    assert.equal(resolveDockerSocket(undefined, {}), '/var/run/docker.sock');
    assert.ok(compareApiVersions('1.9', '1.41') < 0);
  });

  it('talks to the real engine when there is one', async (t) => {
    const client = createDockerClient();
    try {
      const version = await client.apiVersion().catch(() => undefined);
      if (!version) return t.skip('no Docker engine at /var/run/docker.sock');
      assert.match(version, /^1\.\d+$/);
    } finally {
      await client.close();
    }
  });
});
