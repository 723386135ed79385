import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity } from '../agent/entity.ts';
import { profileIdFor, selectorFor, stripPodSuffix, stripReplicaSuffix, workloadKeyFor } from './workload-key.ts';

const digest = 'sha256:' + 'ab'.repeat(32);

function container(name: string, extra: Partial<Entity> = {}): Entity {
  return { id: 'c'.repeat(64), name, runtime: 'docker', image: 'web:1.0', imageDigest: digest, labels: {}, ...extra };
}

describe('workload keys', () => {
  it('gives replicas of one container name pattern the same key', () => {
    const keys = ['web-1', 'web_2', 'web.3', '/web-4', 'web-7f9c0a1b2c'].map((name) => workloadKeyFor(container(name)));
    for (const key of keys) assert.deepEqual(key, { imageDigest: digest, workload: 'container:web' });
  });

  it('keeps names whose last part is a word, not a replica number', () => {
    assert.equal(stripReplicaSuffix('nginx-proxy'), 'nginx-proxy');
    assert.equal(stripReplicaSuffix('api-v2'), 'api-v2');
    assert.equal(stripReplicaSuffix('cafe'), 'cafe');
    assert.equal(stripReplicaSuffix('42'), '42');
    assert.equal(stripReplicaSuffix('svc.1.x8f2k9b0c1d2e3f4a5b6c7d8e'), 'svc');
    assert.equal(stripReplicaSuffix('build-cache'), 'build-cache');
  });

  it('keys Kubernetes containers by their owning workload', () => {
    const entity = container('k8s_app_kv-7d9f8c6b5d-x2k4z_shop_uid_0', {
      kubernetes: { namespace: 'shop', pod: 'kv-7d9f8c6b5d-x2k4z', container: 'app', workload: { kind: 'Deployment', name: 'kv' } },
    });
    assert.equal(workloadKeyFor(entity).workload, 'k8s:shop/Deployment/kv');
  });

  it('falls back to the pod name without its random suffix when the owner is unknown', () => {
    assert.equal(stripPodSuffix('kv-7d9f8c6b5d-x2k4z'), 'kv');
    assert.equal(stripPodSuffix('db-0'), 'db');
    assert.equal(stripPodSuffix('node-agent-x2k4z'), 'node-agent');
    assert.equal(stripPodSuffix('report-28391234-x2k4z'), 'report');
    assert.equal(stripPodSuffix('standalone'), 'standalone');
    const entity = container('k8s_app_kv', { kubernetes: { namespace: 'shop', pod: 'kv-7d9f8c6b5d-x2k4z' } });
    assert.equal(workloadKeyFor(entity).workload, 'k8s:shop/Pod/kv');
  });

  it('keys compose containers by project and service', () => {
    const entity = container('shop-web-3', { labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' } });
    assert.equal(workloadKeyFor(entity).workload, 'compose:shop/web');
  });

  it('gives a new image a new profile id, and the same key the same id everywhere', () => {
    const a = profileIdFor(workloadKeyFor(container('web-1')));
    assert.match(a, /^wl-[0-9a-f]{12}$/);
    assert.equal(profileIdFor(workloadKeyFor(container('web-2'))), a);
    assert.notEqual(profileIdFor(workloadKeyFor(container('web-1', { imageDigest: 'sha256:' + 'cd'.repeat(32) }))), a);
  });

  it('separates images without a digest by their reference', () => {
    const a = workloadKeyFor(container('web-1', { imageDigest: undefined, image: 'web:1.0' }));
    const b = workloadKeyFor(container('web-1', { imageDigest: undefined, image: 'web:2.0' }));
    assert.notEqual(profileIdFor(a), profileIdFor(b));
  });

  it('selects by app labels, then compose labels, then a nomine label', () => {
    assert.deepEqual(selectorFor(container('web-1', { labels: { app: 'web', 'io.kubernetes.pod.name': 'x' } })), { app: 'web' });
    assert.deepEqual(selectorFor(container('web-1', { labels: { 'app.kubernetes.io/name': 'kv' } })), { 'app.kubernetes.io/name': 'kv' });
    assert.deepEqual(
      selectorFor(container('shop-web-1', { labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' } })),
      { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
    );
    assert.deepEqual(selectorFor(container('web-1')), { 'nomine.io/workload': 'web' });
    const odd = selectorFor(container('_weird name!' + 'x'.repeat(80)));
    assert.match(odd['nomine.io/workload']!, /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/);
  });
});
