/**
 * Web console probe: container management consoles recognised by a documented API answer, then logged into with
 * the shipped default credentials for that product, one attempt per credential, stopping at the first success.
 * Portainer (GET /api/status → `Version`; POST /api/auth → `jwt`), Rancher (GET /v3-public/authProviders; POST
 * /v3-public/localProviders/local?action=login → `token`), Harbor (GET /api/v2.0/systeminfo → `harbor_version`;
 * GET /api/v2.0/users/current with basic auth), Shipyard (POST /auth/login → `auth_token`), and the Kubernetes
 * Dashboard's skip-login switch (GET /api/v1/login/skippable → `skippable`).
 */
import { answerJson } from '../probe-http.ts';
import type { ConsoleProduct, Credential } from '../probe-credentials.ts';
import { ask, hasKeys, type Probe, type ProbeContext } from '../probe.ts';
import type { CheckOutcome, ProbeEvidence } from '../probe-report.ts';

interface ConsoleKind {
  product: ConsoleProduct;
  recognise(context: ProbeContext): Promise<ProbeEvidence | undefined>;
  /** One login attempt; returns the evidence and whether it was accepted. */
  login(context: ProbeContext, credential: Credential): Promise<{ accepted: boolean; evidence: ProbeEvidence }>;
}

const json = { 'content-type': 'application/json' };

function jsonLogin(path: string, body: (credential: Credential) => object, accepted: (status: number, answer: unknown) => boolean): ConsoleKind['login'] {
  return async (context, credential) => {
    const attempt = await ask(context, { method: 'POST', path, headers: json, body: JSON.stringify(body(credential)) });
    attempt.evidence.request += ` as ${credential.username}`;
    return { accepted: accepted(attempt.answer.status, answerJson(attempt.answer)), evidence: attempt.evidence };
  };
}

const consoles: ConsoleKind[] = [
  {
    product: 'portainer',
    async recognise(context) {
      const status = await ask(context, { path: '/api/status' });
      return status.answer.status === 200 && hasKeys(answerJson(status.answer), 'Version') ? status.evidence : undefined;
    },
    login: jsonLogin('/api/auth', (c) => ({ username: c.username, password: c.password }), (status, answer) => status === 200 && hasKeys(answer, 'jwt')),
  },
  {
    product: 'rancher',
    async recognise(context) {
      const providers = await ask(context, { path: '/v3-public/authProviders' });
      const body = answerJson(providers.answer);
      return providers.answer.status === 200 && hasKeys(body, 'type', 'data') && body.type === 'collection' ? providers.evidence : undefined;
    },
    login: jsonLogin('/v3-public/localProviders/local?action=login', (c) => ({ username: c.username, password: c.password, responseType: 'json' }), (status, answer) => (status === 200 || status === 201) && hasKeys(answer, 'token')),
  },
  {
    product: 'harbor',
    async recognise(context) {
      const info = await ask(context, { path: '/api/v2.0/systeminfo' });
      return info.answer.status === 200 && hasKeys(answerJson(info.answer), 'harbor_version') ? info.evidence : undefined;
    },
    async login(context, credential) {
      const authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      const attempt = await ask(context, { path: '/api/v2.0/users/current', headers: { authorization } });
      return { accepted: attempt.answer.status === 200, evidence: attempt.evidence };
    },
  },
  {
    product: 'shipyard',
    async recognise(context) {
      const root = await ask(context, { path: '/' });
      return root.answer.status === 200 && /<title>[^<]*shipyard/i.test(root.answer.body.toString('utf8')) ? root.evidence : undefined;
    },
    login: jsonLogin('/auth/login', (c) => ({ username: c.username, password: c.password }), (status, answer) => status === 200 && hasKeys(answer, 'auth_token')),
  },
];

async function checkDashboard(context: ProbeContext): Promise<CheckOutcome | undefined> {
  const skippable = await ask(context, { path: '/api/v1/login/skippable' });
  const body = answerJson(skippable.answer);
  if (skippable.answer.status !== 200 || !hasKeys(body, 'skippable')) return undefined;
  const isSkippable = body.skippable === true;
  return {
    checkId: 'web-console.login-skippable',
    status: isSkippable ? 'fail' : 'pass',
    evidence: [skippable.evidence],
    detail: isSkippable ? 'the dashboard offers "Skip" on its login page (--enable-skip-login)' : 'login cannot be skipped',
  };
}

export const webConsoleProbe: Probe = {
  id: 'web-console',
  async run(context) {
    // Consoles are not also Docker engines, registries, API servers, kubelets or etcd; skip the extra requests.
    if (context.services.size > 0) return { services: [], outcomes: [] };
    const services: string[] = [];
    const outcomes: CheckOutcome[] = [];
    for (const kind of consoles) {
      const seen = await kind.recognise(context);
      if (!seen) continue;
      services.push(kind.product);
      const evidence: ProbeEvidence[] = [seen];
      let accepted: Credential | undefined;
      for (const credential of context.credentials.consoles[kind.product]) {
        context.signal.throwIfAborted();
        const attempt = await kind.login(context, credential);
        evidence.push(attempt.evidence);
        if (attempt.accepted) {
          accepted = credential;
          break;
        }
      }
      outcomes.push({
        checkId: 'web-console.default-credentials',
        status: accepted ? 'fail' : 'pass',
        evidence,
        detail: accepted ? `${kind.product}: user "${accepted.username}" logs in with a default password (${accepted.source})` : `${kind.product}: none of ${evidence.length - 1} default passwords is accepted`,
      });
      break;
    }
    const dashboard = await checkDashboard(context);
    if (dashboard) {
      services.push('kubernetes-dashboard');
      outcomes.push(dashboard);
    }
    return { services, outcomes };
  },
};
