import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile } from '../../../test/fixtures/exports/example-profile.ts';
import { isDnsLabel, isDnsSubdomain, isLabelKey, isLabelValue, policyName, slugify, workloadSelector } from './kubernetes-name.ts';

describe('Kubernetes names', () => {
  it('knows DNS-1123 labels and subdomains as the API server does', () => {
    for (const good of ['a', 'web', 'nomine-web-0123', 'a'.repeat(63), '0abc']) assert.ok(isDnsLabel(good), good);
    for (const bad of ['', 'Web', '-web', 'web-', 'we_b', 'we.b', 'a'.repeat(64), 'wéb', 'a b']) assert.ok(!isDnsLabel(bad), bad);
    for (const good of ['kube-dns', 'security.kubearmor.com', 'a.b-c.d']) assert.ok(isDnsSubdomain(good), good);
    for (const bad of ['', 'a..b', '.a', 'a.', 'A.b', 'x'.repeat(254)]) assert.ok(!isDnsSubdomain(bad), bad);
  });

  it('knows label keys and values', () => {
    for (const good of ['app', 'app.kubernetes.io/name', 'k8s-app', 'A_b.c']) assert.ok(isLabelKey(good), good);
    for (const bad of ['', '/app', 'app/', 'Bad.Prefix/app', 'a b', 'x'.repeat(64), 'a/b/c']) assert.ok(!isLabelKey(bad), bad);
    for (const good of ['', 'web', 'Web_1.2-x', 'a'.repeat(63)]) assert.ok(isLabelValue(good), good);
    for (const bad of ['-web', 'web-', 'a b', 'a'.repeat(64), 'ü']) assert.ok(!isLabelValue(bad), bad);
  });

  it('slugifies to lower-case letters, digits and single dashes', () => {
    assert.equal(slugify('My Web_App  (prod)', 63), 'my-web-app-prod');
    assert.equal(slugify('Ünïcödé-Sërvice', 63), 'unicode-service');
    assert.equal(slugify('日本語', 63), '');
    assert.equal(slugify('---', 63), '');
    assert.equal(slugify('abc-def', 4), 'abc');
  });

  it('derives a valid, unique policy name from any workload, however hostile', () => {
    const workloads = [
      'k8s:shop/Deployment/web',
      'compose:Shop Project/My Web Service',
      'container:WEB_Server.1',
      'container:日本語',
      'container:',
      `container:${'x'.repeat(500)}`,
      'container:"; rm -rf /\n',
      'k8s:ns/Deployment/-leading-and-trailing-',
    ];
    const names = new Set<string>();
    for (const [index, workload] of workloads.entries()) {
      const id = `wl-${String(index).repeat(12)}`;
      const name = policyName(bareProfile({ id, key: { imageDigest: 'sha256:1', workload }, kubernetes: undefined }));
      assert.ok(isDnsLabel(name), `${JSON.stringify(workload)} → ${name}`);
      assert.ok(name.length <= 63);
      assert.ok(name.startsWith('nomine-'));
      names.add(name);
    }
    assert.equal(names.size, workloads.length);
    assert.equal(policyName(bareProfile()), 'nomine-api-0123456789ab');
  });

  it('still makes a distinct name when the profile id is unusable', () => {
    const a = policyName(bareProfile({ id: '!!!', key: { imageDigest: 'sha256:1', workload: 'container:a' } }));
    const b = policyName(bareProfile({ id: '!!!', key: { imageDigest: 'sha256:2', workload: 'container:a' } }));
    assert.ok(isDnsLabel(a) && isDnsLabel(b));
    assert.notEqual(a, b);
  });

  it('copies a valid selector sorted and refuses an invalid one rather than rewriting it', () => {
    assert.deepEqual(workloadSelector(bareProfile({ selector: { 'z.io/b': 'y', app: 'x' } }), undefined), { app: 'x', 'z.io/b': 'y' });
    assert.deepEqual(workloadSelector(bareProfile({ selector: {} }), { app: 'given' }), { app: 'given' });
    assert.deepEqual(workloadSelector(bareProfile({ selector: {} }), undefined), {});
    assert.throws(() => workloadSelector(bareProfile({ selector: { app: 'a b' } }), undefined), (error: unknown) => isNomineError(error) && error.code === 'invalid-input' && /"app"="a b"/.test(error.message));
    assert.throws(() => workloadSelector(bareProfile({ selector: { app: 42 as unknown as string } }), undefined), (error: unknown) => isNomineError(error));
  });
});
