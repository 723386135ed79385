/**
 * Docker Engine API probe: an engine listening on TCP without --tlsverify answers /version, /info and
 * /containers/json to anyone, which is root on the host (the classic way miners get in). Recognised by the
 * documented /version shape (`ApiVersion`, `Version`) or the `Api-Version` header on /_ping when the rest is denied.
 */
import { answerJson, headerText } from '../probe-http.ts';
import { ask, hasKeys, nothingFound, type Probe } from '../probe.ts';
import type { ProbeEvidence } from '../probe-report.ts';

export const dockerApiProbe: Probe = {
  id: 'docker-api',
  async run(context) {
    const version = await ask(context, { path: '/version' });
    const json = answerJson(version.answer);
    const isOpen = version.answer.status === 200 && hasKeys(json, 'ApiVersion', 'Version');
    if (!isOpen) {
      const ping = await ask(context, { path: '/_ping' });
      if (!headerText(ping.answer.headers, 'api-version')) return nothingFound;
      return {
        services: ['docker-engine'],
        outcomes: [{ checkId: 'docker.api.unauthenticated', status: 'pass', evidence: [ping.evidence, version.evidence], detail: `the engine refuses /version without credentials (${version.answer.status})` }],
      };
    }
    // The telling part of /version is the engine's identity, not the first bytes of Platform/Components.
    const evidence: ProbeEvidence[] = [{ request: version.evidence.request, answer: `200 Version ${String(json.Version)}, ApiVersion ${String(json.ApiVersion)}, Os ${String(json.Os ?? '?')}` }];
    const readable: string[] = [];
    for (const path of ['/info', '/containers/json']) {
      const probe = await ask(context, { path });
      evidence.push(probe.evidence);
      if (probe.answer.status === 200) readable.push(path);
    }
    return {
      services: ['docker-engine'],
      outcomes: [{
        checkId: 'docker.api.unauthenticated',
        status: 'fail',
        evidence,
        detail: `Docker ${String(json.Version)} (API ${String(json.ApiVersion)}) answers anyone${readable.length ? `; ${readable.join(', ')} readable` : ''}`,
      }],
    };
  },
};
