import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isPodSandbox,
  kubernetesMetadataFromAnnotations,
  kubernetesMetadataFromLabels,
  workloadFromPodName,
  workloadOf,
} from './kubernetes-metadata.ts';

describe('workloadFromPodName', () => {
  it('derives the Deployment from a ReplicaSet pod name', () => {
    assert.deepEqual(workloadFromPodName('coredns-5d78c9869d-8xh2q'), { kind: 'Deployment', name: 'coredns' });
    assert.deepEqual(workloadFromPodName('ingress-nginx-controller-7b9d4f6c8-wz5vt'), { kind: 'Deployment', name: 'ingress-nginx-controller' });
    // A five-character pod-template-hash (small uint32) and a ten-character one.
    assert.deepEqual(workloadFromPodName('api-x7b2d-qq4zl'), { kind: 'Deployment', name: 'api' });
    assert.deepEqual(workloadFromPodName('api-5d78c9869d-8xh2q'), { kind: 'Deployment', name: 'api' });
  });

  it('derives the StatefulSet from an ordinal', () => {
    assert.deepEqual(workloadFromPodName('postgres-0'), { kind: 'StatefulSet', name: 'postgres' });
    assert.deepEqual(workloadFromPodName('kafka-broker-12'), { kind: 'StatefulSet', name: 'kafka-broker' });
  });

  it('does not take a leading-zero number or a huge number for an ordinal', () => {
    assert.notEqual(workloadFromPodName('web-01')?.kind, 'StatefulSet');
    assert.notEqual(workloadFromPodName('web-24567')?.kind, 'StatefulSet');
  });

  it('derives the DaemonSet from a bare generated suffix', () => {
    assert.deepEqual(workloadFromPodName('kube-proxy-8ztlx'), { kind: 'DaemonSet', name: 'kube-proxy' });
    assert.deepEqual(workloadFromPodName('fluent-bit-24567'), { kind: 'DaemonSet', name: 'fluent-bit' });
  });

  it('derives the CronJob from a Job scheduled-time suffix before the RS-hash shape can claim it', () => {
    assert.deepEqual(workloadFromPodName('backup-28459320-4tqxz'), { kind: 'CronJob', name: 'backup' });
    // All digits from the safe alphabet: would also pass for a pod-template-hash.
    assert.deepEqual(workloadFromPodName('report-28459776-4tqxz'), { kind: 'CronJob', name: 'report' });
  });

  it('derives nothing from names no controller generates', () => {
    for (const name of ['nginx', 'my-pod', 'kube-apiserver-node1', 'web-aeiou', 'web-abc', 'app-5d78c9869d-8xh2', '', '-', '-0', 'x-5d78c9869d-']) {
      assert.equal(workloadFromPodName(name), undefined, name);
    }
  });

  it('does not take vowels or excluded digits for generated characters', () => {
    assert.deepEqual(workloadFromPodName('app-5d78c9869a-8xh2q'), { kind: 'DaemonSet', name: 'app-5d78c9869a' });
    assert.equal(workloadFromPodName('app-1bcdf'), undefined);
  });

  it('copes with a very long name without slowing down', () => {
    const started = performance.now();
    const name = `${'a-'.repeat(5000)}x`;
    assert.equal(workloadFromPodName(name), undefined);
    assert.ok(performance.now() - started < 500);
  });
});

describe('workloadOf', () => {
  it('prefers the pod-template-hash label to the shape of the name', () => {
    assert.deepEqual(workloadOf('web-2-0-abcd2-x7b2d', { 'pod-template-hash': 'abcd2' }), { kind: 'Deployment', name: 'web-2-0' });
  });

  it('recognises a plain Job and a CronJob from the job-name label', () => {
    assert.deepEqual(workloadOf('migrate-x7b2d', { 'batch.kubernetes.io/job-name': 'migrate' }), { kind: 'Job', name: 'migrate' });
    assert.deepEqual(workloadOf('backup-28459320-x7b2d', { 'job-name': 'backup-28459320' }), { kind: 'CronJob', name: 'backup' });
  });

  it('recognises a DaemonSet from controller-revision-hash and a StatefulSet from its pod-name label', () => {
    assert.deepEqual(workloadOf('node-exporter-x7b2d', { 'controller-revision-hash': '6b8f' }), { kind: 'DaemonSet', name: 'node-exporter' });
    assert.deepEqual(workloadOf('zk-3', { 'statefulset.kubernetes.io/pod-name': 'zk-3', 'controller-revision-hash': 'zk-7c9' }), { kind: 'StatefulSet', name: 'zk' });
  });

  it('falls back to the name when a label does not fit it', () => {
    assert.deepEqual(workloadOf('coredns-5d78c9869d-8xh2q', { 'pod-template-hash': 'zzzzz' }), { kind: 'Deployment', name: 'coredns' });
    assert.deepEqual(workloadOf('coredns-5d78c9869d-8xh2q', { 'pod-template-hash': '.*(' }), { kind: 'Deployment', name: 'coredns' });
  });
});

describe('kubernetesMetadataFromLabels', () => {
  it('reads dockershim labels of an application container', () => {
    const labels = {
      'io.kubernetes.pod.name': 'kv-store-6c9f8d7b5-x2x4z',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.container.name': 'kv',
      'io.kubernetes.docker.type': 'container',
    };
    assert.deepEqual(kubernetesMetadataFromLabels(labels), {
      namespace: 'shop',
      pod: 'kv-store-6c9f8d7b5-x2x4z',
      container: 'kv',
      workload: { kind: 'Deployment', name: 'kv-store' },
    });
    assert.equal(isPodSandbox(labels), false);
  });

  it('marks the sandbox and leaves out its POD container name', () => {
    const labels = { 'io.kubernetes.pod.name': 'zk-0', 'io.kubernetes.pod.namespace': 'data', 'io.kubernetes.container.name': 'POD', 'io.kubernetes.docker.type': 'podsandbox' };
    assert.equal(isPodSandbox(labels), true);
    assert.deepEqual(kubernetesMetadataFromLabels(labels), { namespace: 'data', pod: 'zk-0', workload: { kind: 'StatefulSet', name: 'zk' } });
  });

  it('answers nothing for a container Kubernetes did not start or with half the labels', () => {
    assert.equal(kubernetesMetadataFromLabels({}), undefined);
    assert.equal(kubernetesMetadataFromLabels({ 'com.docker.compose.service': 'web' }), undefined);
    assert.equal(kubernetesMetadataFromLabels({ 'io.kubernetes.pod.name': 'x-0' }), undefined);
    assert.equal(kubernetesMetadataFromLabels({ 'io.kubernetes.pod.name': '', 'io.kubernetes.pod.namespace': 'a' }), undefined);
  });
});

describe('kubernetesMetadataFromAnnotations', () => {
  it('reads containerd CRI annotations', () => {
    const annotations = {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.sandbox-name': 'fluent-bit-8ztlx',
      'io.kubernetes.cri.sandbox-namespace': 'logging',
      'io.kubernetes.cri.container-name': 'fluent-bit',
      'io.kubernetes.cri.image-name': 'docker.io/fluent/fluent-bit:2.2',
    };
    assert.deepEqual(kubernetesMetadataFromAnnotations(annotations), {
      namespace: 'logging',
      pod: 'fluent-bit-8ztlx',
      container: 'fluent-bit',
      workload: { kind: 'DaemonSet', name: 'fluent-bit' },
    });
    assert.equal(isPodSandbox(annotations), false);
    assert.equal(isPodSandbox({ ...annotations, 'io.kubernetes.cri.container-type': 'sandbox' }), true);
  });

  it('keeps a pod whose name no controller generated, without a workload', () => {
    assert.deepEqual(kubernetesMetadataFromAnnotations({ 'io.kubernetes.cri.sandbox-name': 'debug', 'io.kubernetes.cri.sandbox-namespace': 'default' }), {
      namespace: 'default',
      pod: 'debug',
    });
  });
});
