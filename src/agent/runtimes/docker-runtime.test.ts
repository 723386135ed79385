import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { entityFromDockerInspect, parseDockerEvent, splitLines } from './docker-runtime.ts';

const id = '2583a5e97553c4d43699e124c63b5c1a3567ab5f86f9e067e25c33dde1736670';

/** Shaped like a Docker 20.10 `/containers/{id}/json` answer (trimmed to what is read, plus noise). */
function inspect(overrides: Record<string, unknown> = {}, state: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    Id: id,
    Created: '2026-11-28T02:11:06.003002179Z',
    Path: 'sleep',
    Args: ['600'],
    State: { Status: 'running', Running: true, Paused: false, Pid: 27408, ExitCode: 0, StartedAt: '2026-11-28T02:11:06.234557672Z', FinishedAt: '0001-01-01T00:00:00Z', ...state },
    Image: 'sha256:1fb21c8e3d8e561359637e9c870b037a5a7dbf9971d150a98767e80b6fb5748f',
    Name: '/kv-store',
    HostConfig: { NetworkMode: 'none' },
    Config: { Hostname: '2583a5e97553', Image: 'kv-store:1.0', Labels: { 'com.docker.compose.service': 'kv' }, ...config },
    ...overrides,
  };
}

describe('entityFromDockerInspect', () => {
  it('describes a running container', () => {
    assert.deepEqual(entityFromDockerInspect(inspect(), { mntns: 4026532177, pidns: 4026532180 }), {
      id,
      name: 'kv-store',
      runtime: 'docker',
      image: 'kv-store:1.0',
      imageDigest: 'sha256:1fb21c8e3d8e561359637e9c870b037a5a7dbf9971d150a98767e80b6fb5748f',
      startedAt: Date.parse('2026-11-28T02:11:06.234Z'),
      pid: 27408,
      mntns: 4026532177,
      pidns: 4026532180,
      composeService: 'kv',
      labels: { 'com.docker.compose.service': 'kv' },
    });
  });

  it('carries Kubernetes metadata from dockershim labels and skips the pod sandbox', () => {
    const labels = { 'io.kubernetes.pod.name': 'kv-store-6c9f8d7b5-x2x4z', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.container.name': 'kv' };
    assert.deepEqual(entityFromDockerInspect(inspect({}, {}, { Labels: labels }))?.kubernetes, {
      namespace: 'shop',
      pod: 'kv-store-6c9f8d7b5-x2x4z',
      container: 'kv',
      workload: { kind: 'Deployment', name: 'kv-store' },
    });
    assert.equal(entityFromDockerInspect(inspect({}, {}, { Labels: { ...labels, 'io.kubernetes.docker.type': 'podsandbox' } })), undefined);
  });

  it('skips a container that is not running or has no init process', () => {
    assert.equal(entityFromDockerInspect(inspect({}, { Running: false, Status: 'exited', Pid: 0 })), undefined);
    assert.equal(entityFromDockerInspect(inspect({}, { Pid: 0 })), undefined);
    assert.equal(entityFromDockerInspect(inspect({}, { Pid: -5 })), undefined);
    assert.equal(entityFromDockerInspect(inspect({}, { Pid: 1.5 })), undefined);
  });

  it('survives wrong types and missing parts without inventing values', () => {
    for (const garbage of [null, undefined, 42, 'text', [], {}, { Id: 7 }, { Id: '' }, { Id: 'x'.repeat(500), State: { Running: true, Pid: 3 } }, inspect({ State: 'running' })]) {
      assert.equal(entityFromDockerInspect(garbage), undefined, JSON.stringify(garbage)?.slice(0, 60));
    }
    const odd = entityFromDockerInspect(inspect({ Name: 42, Image: ['x'], Config: { Labels: { a: 'b', n: 5, o: {} }, Image: null } }, { StartedAt: '0001-01-01T00:00:00Z' }));
    assert.deepEqual(odd, { id, name: id.slice(0, 12), runtime: 'docker', pid: 27408, labels: { a: 'b' } });
    assert.deepEqual(entityFromDockerInspect(inspect({ Config: null }))?.labels, {});
    assert.equal(entityFromDockerInspect(inspect({}, { StartedAt: 'yesterday' }))?.startedAt, undefined);
  });
});

describe('parseDockerEvent', () => {
  it('reads a container event as the engine sends it', () => {
    const line = `{"status":"die","id":"${id}","from":"kv-store:1.0","Type":"container","Action":"die","Actor":{"ID":"${id}","Attributes":{"exitCode":"137","name":"kv"}},"scope":"local","time":1795831979,"timeNano":1795831979544702114}`;
    assert.deepEqual(parseDockerEvent(line), { action: 'die', id, at: 1795831979544 });
  });

  it('falls back to the seconds time and to the pre-1.22 fields', () => {
    assert.deepEqual(parseDockerEvent(`{"status":"start","id":"${id}","time":1700000000}`), { action: 'start', id, at: 1700000000000 });
  });

  it('ignores other event types and garbage', () => {
    for (const line of [
      '{"Type":"network","Action":"connect","Actor":{"ID":"n1"}}',
      '{"Type":"image","Action":"pull","Actor":{"ID":"busybox"}}',
      'not json',
      '{"Type":"container"',
      '[]',
      'null',
      '42',
      '{"Type":"container","Action":5,"Actor":{"ID":"x"}}',
      '{"Type":"container","Action":"start","Actor":{"ID":""}}',
      '{"Type":"container","Action":"start","Actor":"x"}',
    ]) {
      assert.equal(parseDockerEvent(line), undefined, line);
    }
    assert.equal(parseDockerEvent(`{"Type":"container","Action":"start","Actor":{"ID":"${id}"},"timeNano":"soon"}`)?.at, undefined);
  });
});

describe('splitLines', () => {
  async function collect(chunks: (string | Buffer)[], max = 64) {
    let oversized = 0;
    const lines: string[] = [];
    for await (const line of splitLines(Readable.from(chunks.map((c) => Buffer.from(c))), max, () => (oversized += 1))) lines.push(line);
    return { lines, oversized };
  }

  it('joins lines split across chunks, multi-byte characters included, and keeps a last line without newline', async () => {
    const euro = Buffer.from('€');
    const result = await collect(['{"a":', '1}\n{"b"', ':2}\n\n', Buffer.concat([Buffer.from('"'), euro.subarray(0, 1)]), euro.subarray(1), '"']);
    assert.deepEqual(result.lines, ['{"a":1}', '{"b":2}', '"€"']);
  });

  it('skips a line longer than the limit whole, even spread over chunks, and goes on', async () => {
    const long = 'x'.repeat(50);
    const result = await collect(['ok1\n', long, long, long, '\nok2\n', 'y'.repeat(100), '\nok3']);
    assert.deepEqual(result.lines, ['ok1', 'ok2', 'ok3']);
    assert.equal(result.oversized, 2);
  });
});
