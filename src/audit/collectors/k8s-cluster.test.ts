import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { NomineError } from '../../core/errors.ts';
import { collectClusterWith, defaultClusterLimits, listPath, type ClusterResponse, type ClusterTransport } from './k8s-cluster.ts';

const target = { context: 'ctx', server: 'https://10.0.0.1:6443' };
const json = (status: number, body: unknown): ClusterResponse => ({ status, body: JSON.stringify(body) });
const emptyList = (kind: string) => json(200, { kind: `${kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });

function transport(answers: Record<string, (query: URLSearchParams) => ClusterResponse | Promise<ClusterResponse>>, seen: string[] = []): ClusterTransport {
  return async (path) => {
    seen.push(path);
    const [pathname = '', search = ''] = path.split('?');
    const answer = answers[pathname];
    return answer ? answer(new URLSearchParams(search)) : emptyList('X');
  };
}

describe('k8s cluster collector', () => {
  it('builds the documented list paths', () => {
    assert.equal(listPath({ kind: 'Pod', plural: 'pods', apiVersion: 'v1' }), '/api/v1/pods');
    assert.equal(listPath({ kind: 'CronJob', plural: 'cronjobs', apiVersion: 'batch/v1' }, 'shop'), '/apis/batch/v1/namespaces/shop/cronjobs');
  });

  it('bounds the objects per resource and says so when the server has more', async () => {
    let served = 0;
    const pages = (query: URLSearchParams) => {
      const limit = Number(query.get('limit'));
      const items = Array.from({ length: limit }, () => ({ metadata: { name: `p${served++}`, namespace: 'a' }, spec: { containers: [] } }));
      return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9', continue: 'more' }, items });
    };
    const collection = await collectClusterWith(transport({ '/api/v1/pods': pages }), target, { ...defaultClusterLimits, pageSize: 4, maxObjectsPerResource: 10 });
    assert.equal(collection.entities.length, 10);
    assert.equal(collection.entities[0]?.facts.kind, 'Pod');
    assert.equal(collection.entities[0]?.facts.apiVersion, 'v1');
    assert.deepEqual(collection.errors.map((error) => `${error.name} ${error.code} ${error.message}`), ['cluster ctx pods limit-exceeded more than 10 pods: only the first 10 are audited']);
  });

  it('classifies a control-plane mirror pod as the manifest collector does', async () => {
    const apiserver = { metadata: { name: 'kube-apiserver-cp', namespace: 'kube-system', ownerReferences: [{ kind: 'Node', name: 'cp', controller: true }] }, spec: { containers: [{ name: 'kube-apiserver', command: ['kube-apiserver', '--profiling=true'] }] } };
    const collection = await collectClusterWith(transport({ '/api/v1/pods': () => json(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [apiserver] }) }), target);
    assert.equal(collection.entities[0]?.target, 'k8s.apiserver');
    assert.equal(collection.entities[0]?.name, 'cluster ctx kube-system/Pod/kube-apiserver-cp');
  });

  it('turns 404, 410, non-List answers and bad items into errors for that resource only', async () => {
    const collection = await collectClusterWith(
      transport({
        '/api/v1/pods': () => json(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: ['oops', { metadata: { name: 'ok', namespace: 'a' }, spec: {} }] }),
        '/apis/apps/v1/deployments': () => json(200, { kind: 'Status', status: 'Success' }),
        '/apis/batch/v1/cronjobs': () => json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }),
        '/apis/batch/v1/jobs': () => json(410, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 }),
      }),
      target,
    );
    assert.deepEqual(collection.entities.map((entity) => entity.name), ['cluster ctx a/Pod/ok']);
    assert.deepEqual(
      collection.errors.map((error) => `${error.code}: ${error.message.split(' — ')[0]}`),
      [
        'invalid-input: malformed Pod in the list: a string, not an object',
        'invalid-input: malformed answer listing deployments.apps: not a DeploymentList (no items list)',
        'conflict: cannot list jobs.batch in all namespaces (cluster scope): the list expired while paging (410 Gone): run again',
        'not-found: cannot list cronjobs.batch in all namespaces (cluster scope): not found (is this API served by the cluster?)',
      ],
    );
  });

  it('reports an unreachable server once, but a connection lost later per resource', async () => {
    const refused: ClusterTransport = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' });
    };
    const gone = await collectClusterWith(refused, target);
    assert.deepEqual(gone.errors.map((error) => `${error.name} ${error.code}`), ['cluster ctx unreachable']);
    assert.match(gone.errors[0]?.message ?? '', /cannot reach the Kubernetes API server https:\/\/10\.0\.0\.1:6443: connect ECONNREFUSED/);

    let calls = 0;
    const flaky: ClusterTransport = async () => {
      calls += 1;
      if (calls === 2) throw new NomineError('timeout', 'no answer within 30000 ms');
      return emptyList('X');
    };
    const later = await collectClusterWith(flaky, target);
    assert.deepEqual(later.errors.map((error) => `${error.name} ${error.code} ${error.message}`), ['cluster ctx deployments.apps timeout cannot list deployments.apps: no answer within 30000 ms']);
  });
});
