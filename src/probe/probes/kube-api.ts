/**
 * Kubernetes API server probe. Recognised by `/api`, which answers `APIVersions` (or a `Status` object when
 * anonymous access is off). Then, without credentials, we list pods, secrets and nodes (limit=1): a `*List` answer
 * means system:anonymous may read them; the documented refusal is a 403 `Status` with reason `Forbidden` naming
 * system:anonymous, or a 401. Served on plain HTTP and answering, it is the old insecure port.
 */
import { answerJson } from '../probe-http.ts';
import { ask, hasKeys, nothingFound, type Probe } from '../probe.ts';
import type { CheckOutcome, ProbeEvidence } from '../probe-report.ts';

const resources = ['pods', 'secrets', 'nodes'] as const;

export const kubeApiProbe: Probe = {
  id: 'kube-api',
  async run(context) {
    const api = await ask(context, { path: '/api' });
    const json = answerJson(api.answer);
    if (!hasKeys(json, 'kind') || (json.kind !== 'APIVersions' && json.kind !== 'Status')) return nothingFound;
    const evidence: ProbeEvidence[] = [api.evidence];
    const listed: string[] = [];
    for (const resource of resources) {
      const list = await ask(context, { path: `/api/v1/${resource}?limit=1` });
      evidence.push(list.evidence);
      const body = answerJson(list.answer);
      if (list.answer.status === 200 && hasKeys(body, 'kind') && String(body.kind).endsWith('List')) listed.push(resource);
    }
    const outcomes: CheckOutcome[] = [{
      checkId: 'kube.api.anonymous',
      status: listed.length ? 'fail' : 'pass',
      evidence,
      detail: listed.length ? `anonymous requests may list ${listed.join(', ')}` : 'anonymous requests to list pods, secrets and nodes are refused',
    }];
    const isInsecurePort = context.http.scheme === 'http' && (api.answer.status === 200 || listed.length > 0);
    outcomes.push({
      checkId: 'kube.api.insecure-port',
      status: isInsecurePort ? 'fail' : 'pass',
      evidence: [api.evidence],
      detail: isInsecurePort ? 'the API answers on plain HTTP without authentication' : `the API is served over ${context.http.scheme.toUpperCase()}${context.http.scheme === 'http' ? ' but refuses anonymous requests' : ''}`,
    });
    return { services: ['kube-apiserver'], outcomes };
  },
};
