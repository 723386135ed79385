import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { collectManifestText, defaultManifestLimits } from './k8s-manifest.ts';

const multi = `# web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox
      containers:
        - name: app
          image: nginx
          securityContext:
            privileged: true
---
apiVersion: v1
kind: Service
metadata: { name: web }
---
- just
- a list
---
this is: [not valid
---
apiVersion: example.com/v1
kind: Deploymnet
metadata: { name: typo }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          containers:
            - name: job
              image: busybox
---
`;

describe('k8s manifest collector', () => {
  const collection = collectManifestText(multi, 'deploy/all.yaml');

  it('turns each workload document into an entity, whatever the kind', () => {
    assert.deepEqual(
      collection.entities.map((e) => [e.target, e.name]),
      [
        ['k8s.workload', 'deploy/all.yaml#1 Deployment shop/web'],
        ['k8s.workload', 'deploy/all.yaml#6 CronJob nightly'],
      ],
    );
    const web = collection.entities[0]!;
    assert.deepEqual((web.facts.containers as { name: string }[]).map((c) => c.name), ['app', 'init'], 'containers first, then init containers');
    assert.equal(((collection.entities[1]!.facts.pod as { spec: { hostPID: boolean } }).spec.hostPID), true);
  });

  it('places fact paths at their file and line, through the pod template', () => {
    const web = collection.entities[0]!;
    assert.deepEqual(web.locate?.('containers[0].securityContext.privileged'), { path: 'deploy/all.yaml', line: 17 });
    assert.deepEqual(web.locate?.('containers[1].image'), { path: 'deploy/all.yaml', line: 12 });
    // A missing field is placed at its deepest existing ancestor: where the fix goes.
    assert.deepEqual(web.locate?.('containers[1].securityContext.runAsNonRoot'), { path: 'deploy/all.yaml', line: 11 });
    const cron = collection.entities[1]!;
    assert.deepEqual(cron.locate?.('pod.spec.hostPID'), { path: 'deploy/all.yaml', line: 40 });
  });

  it('reports a list document, invalid YAML and an unknown kind as errors at their lines, and skips a Service', () => {
    const errors = collection.errors.map((e) => [e.name.split(' ')[0], e.code, e.location?.line]);
    assert.deepEqual(errors, [
      ['deploy/all.yaml#3', 'invalid-input', 23],
      ['deploy/all.yaml#4', 'invalid-input', 26],
      ['deploy/all.yaml#5', 'unsupported', 28],
    ]);
    assert.match(collection.errors[2]!.message, /unknown kind "Deploymnet"/);
    assert.deepEqual(collection.skipped.map((s) => s.reason), ['kind Service runs no pods']);
  });

  it('bounds the number of documents and alias expansion', () => {
    const many = Array.from({ length: 30 }, (_, i) => `kind: Pod\nmetadata: { name: p${i} }\nspec: { containers: [] }`).join('\n---\n');
    const bounded = collectManifestText(many, 'many.yaml', { ...defaultManifestLimits, maxDocuments: 10 });
    assert.equal(bounded.entities.length, 10);
    assert.equal(bounded.errors[0]?.code, 'limit-exceeded');
    const bomb = ['kind: Pod', 'a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]'].join('\n');
    const exploded = collectManifestText(bomb, 'bomb.yaml');
    assert.equal(exploded.entities.length, 0);
    assert.equal(exploded.errors[0]?.code, 'limit-exceeded');
  });

  it('survives hostile documents: scalars, kinds that are not strings, empty input, binary noise', () => {
    for (const text of ['', '---\n---\n', '42', 'kind: 7', 'kind: Pod\nspec: 5', 'kind: Deployment\nspec: { template: [1, 2] }', '\u0000\u0001\u0002', 'kind: Pod\nspec:\n  containers: [1, null, "x", { securityContext: 3 }]']) {
      const result = collectManifestText(text, 'hostile.yaml');
      assert.ok(Array.isArray(result.entities) && Array.isArray(result.errors));
    }
  });

  it('recognises control-plane static pods by their command and parses their flags with lines', () => {
    const apiserver = `apiVersion: v1
kind: Pod
metadata: { name: kube-apiserver, namespace: kube-system }
spec:
  hostNetwork: true
  containers:
    - name: kube-apiserver
      command:
        - kube-apiserver
        - --anonymous-auth=true
        - --authorization-mode=Node,RBAC
        - --profiling
`;
    const result = collectManifestText(apiserver, '/etc/kubernetes/manifests/kube-apiserver.yaml');
    const entity = result.entities[0]!;
    assert.equal(entity.target, 'k8s.apiserver');
    assert.deepEqual(entity.facts.flags, { 'anonymous-auth': 'true', 'authorization-mode': 'Node,RBAC', profiling: 'true' });
    assert.equal(entity.locate?.('flags.anonymous-auth')?.line, 10);
  });

  it('reads a kubelet config as its own facts', () => {
    const result = collectManifestText('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n', 'config.yaml');
    assert.equal(result.entities[0]?.target, 'k8s.kubelet');
    assert.equal(result.entities[0]?.locate?.('readOnlyPort')?.line, 3);
  });
});
