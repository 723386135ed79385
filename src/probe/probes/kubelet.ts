/**
 * Kubelet probe. The read-only port (10255, plain HTTP) serves /pods to anyone; the main port (10250, HTTPS) does
 * too when anonymous auth is on and authorization is AlwaysAllow, and then also /runningpods/ and exec. Recognised
 * by /pods answering a `PodList`; a hardened kubelet answers 401 "Unauthorized" (plain text, not the API server's
 * Status), which we trust only on the kubelet ports.
 */
import { answerJson } from '../probe-http.ts';
import { ask, hasKeys, nothingFound, type Probe } from '../probe.ts';

const kubeletPorts: ReadonlySet<number> = new Set([10250, 10255]);

export const kubeletProbe: Probe = {
  id: 'kubelet',
  async run(context) {
    if (context.services.has('kube-apiserver')) return nothingFound;
    const pods = await ask(context, { path: '/pods' });
    const json = answerJson(pods.answer);
    const isPodList = pods.answer.status === 200 && hasKeys(json, 'kind') && json.kind === 'PodList';
    if (!isPodList) {
      const isRefusal = (pods.answer.status === 401 || pods.answer.status === 403) && !hasKeys(json, 'kind');
      if (!isRefusal || !kubeletPorts.has(context.endpoint.port)) return nothingFound;
      return {
        services: ['kubelet'],
        outcomes: [{ checkId: 'kubelet.anonymous', status: 'pass', evidence: [pods.evidence], detail: `the kubelet refuses /pods without credentials (${pods.answer.status})` }],
      };
    }
    const count = Array.isArray((json as { items?: unknown }).items) ? (json as { items: unknown[] }).items.length : 0;
    if (context.http.scheme === 'http') {
      return {
        services: ['kubelet'],
        outcomes: [{ checkId: 'kubelet.read-only-port', status: 'fail', evidence: [pods.evidence], detail: `the read-only port lists ${count} pods (with their specs and environment) to anyone` }],
      };
    }
    const running = await ask(context, { path: '/runningpods/' });
    return {
      services: ['kubelet'],
      outcomes: [{
        checkId: 'kubelet.anonymous',
        status: 'fail',
        evidence: [pods.evidence, running.evidence],
        detail: `the kubelet API lists ${count} pods without authentication${running.answer.status === 200 ? ' and /runningpods/ answers' : ''}`,
      }],
    };
  },
};
