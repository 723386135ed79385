/**
 * etcd probe: etcd holds every Kubernetes secret; reachable without client certificates it is the cluster. We read
 * /version (its documented `etcdserver` / `etcdcluster` shape), then try to read keys through the v2 API and the
 * v3 gRPC gateway (`count_only`, so no value is transferred).
 */
import { answerJson } from '../probe-http.ts';
import { ask, hasKeys, nothingFound, type Probe } from '../probe.ts';
import type { ProbeEvidence } from '../probe-report.ts';

// The whole keyspace: key "\0" with range_end "\0" means "every key" in the v3 range API; base64 in JSON.
const allKeys = JSON.stringify({ key: 'AA==', range_end: 'AA==', count_only: true });

export const etcdProbe: Probe = {
  id: 'etcd',
  async run(context) {
    const version = await ask(context, { path: '/version' });
    const json = answerJson(version.answer);
    if (version.answer.status !== 200 || !hasKeys(json, 'etcdserver')) return nothingFound;
    const evidence: ProbeEvidence[] = [version.evidence];
    const readable: string[] = [];

    const v2 = await ask(context, { path: '/v2/keys/' });
    if (v2.answer.status === 200 && hasKeys(answerJson(v2.answer), 'action')) {
      evidence.push(v2.evidence);
      readable.push('v2 keys');
    }
    let v3Answer = '';
    for (const path of ['/v3/kv/range', '/v3beta/kv/range']) {
      const v3 = await ask(context, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: allKeys });
      if (v3.answer.status === 404) continue;
      evidence.push(v3.evidence);
      const range = answerJson(v3.answer);
      if (v3.answer.status === 200 && hasKeys(range, 'header')) {
        readable.push(`v3 range (${String((range as { count?: unknown }).count ?? 0)} keys)`);
      } else v3Answer = `v3 refused (${v3.answer.status})`;
      break;
    }
    const failed = readable.length > 0;
    return {
      services: ['etcd'],
      outcomes: [{
        checkId: 'etcd.unauthenticated',
        status: failed ? 'fail' : 'pass',
        evidence,
        detail: failed ? `etcd ${String(json.etcdserver)}: ${readable.join(', ')} readable without credentials` : `etcd ${String(json.etcdserver)} answers /version only; ${v3Answer || 'keys not readable'}`,
      }],
    };
  },
};
