/**
 * Docker Registry v2 probe. Recognised by /v2/ carrying `Docker-Distribution-API-Version: registry/2.0`. Three
 * checks: the catalog read without credentials, a push without credentials — proven safely by opening a blob
 * upload (POST /v2/<repo>/blobs/uploads/) and cancelling it at once (DELETE on its Location), so no data is left —
 * and the shipped default passwords, one attempt each, only when the registry asks for credentials. Authentication
 * (basic, or a bearer token from the realm) goes through the scan's RegistryClient and token flow.
 */
import { randomBytes } from 'node:crypto';
import { isNomineError } from '../../core/errors.ts';
import { defaultLimits, type Limits } from '../../platform/limits.ts';
import { fetchBearerToken, parseAuthChallenges } from '../../scan/sources/registry-auth.ts';
import { RegistryClient } from '../../scan/sources/registry-client.ts';
import { createRegistryDispatcher, readBoundedBody } from '../../scan/sources/registry-http.ts';
import { answerJson, headerText } from '../probe-http.ts';
import { ask, nothingFound, type Probe, type ProbeContext } from '../probe.ts';
import type { CheckOutcome, ProbeEvidence } from '../probe-report.ts';

function registryLimits(context: ProbeContext): Limits {
  return { ...defaultLimits, httpTimeoutMs: context.limits.requestTimeoutMs, httpIdleTimeoutMs: context.limits.requestTimeoutMs, maxJsonBytes: context.limits.maxBodyBytes };
}

function registryName(context: ProbeContext): string {
  return new URL(context.http.origin).host;
}

async function checkCatalog(context: ProbeContext): Promise<CheckOutcome> {
  const client = new RegistryClient({ baseUrl: new URL(`${context.http.origin}/`), registry: registryName(context), limits: registryLimits(context), signal: context.signal });
  const request = `GET ${context.http.origin}/v2/_catalog?n=100 (no credentials)`;
  try {
    const response = await client.call({ path: '/v2/_catalog?n=100', scope: 'registry:catalog:*', part: `registry ${client.registry}`, subject: 'the repository catalog' });
    const bytes = await readBoundedBody(response, context.limits.maxBodyBytes, `registry ${client.registry}`, context.signal);
    const repositories = (JSON.parse(bytes.toString('utf8')) as { repositories?: string[] | null }).repositories ?? [];
    return {
      checkId: 'registry.catalog.anonymous',
      status: 'fail',
      evidence: [{ request, answer: `200 ${repositories.length} repositories${repositories.length ? `: ${repositories.slice(0, 5).join(', ')}${repositories.length > 5 ? ', …' : ''}` : ''}` }],
      detail: `anyone can list the ${repositories.length} repositories`,
    };
  } catch (error) {
    if (isNomineError(error) && (error.code === 'unauthorized' || error.code === 'forbidden')) {
      return { checkId: 'registry.catalog.anonymous', status: 'pass', evidence: [{ request, answer: `${error.code}: ${error.message}` }], detail: 'the catalog needs credentials' };
    }
    throw error;
  } finally {
    await client.close();
  }
}

async function checkPush(context: ProbeContext): Promise<CheckOutcome> {
  // A name no one uses, so even a registry that keeps empty repositories shows who made it.
  const repository = `nomine-probe-${randomBytes(6).toString('hex')}`;
  const path = `/v2/${repository}/blobs/uploads/`;
  const evidence: ProbeEvidence[] = [];
  let start = await ask(context, { method: 'POST', path, headers: { 'content-length': '0' }, body: '' });
  evidence.push(start.evidence);
  const bearer = parseAuthChallenges(headerText(start.answer.headers, 'www-authenticate')).find((challenge) => challenge.scheme === 'bearer');
  let authorization: string | undefined;
  if (start.answer.status === 401 && bearer) {
    // Token registries may hand anonymous clients a push token; ask for one, without credentials.
    const dispatcher = createRegistryDispatcher(registryLimits(context));
    try {
      const token = await fetchBearerToken(dispatcher, { challenge: bearer, fallbackScope: `repository:${repository}:push,pull`, credentials: undefined, registry: registryName(context), part: `registry ${registryName(context)}` }, context.signal);
      authorization = `Bearer ${token}`;
      start = await ask(context, { method: 'POST', path, headers: { 'content-length': '0', authorization }, body: '' });
      evidence.push(start.evidence);
    } catch (error) {
      if (!isNomineError(error) || (error.code !== 'unauthorized' && error.code !== 'forbidden')) throw error;
      evidence.push({ request: `GET ${bearer.params.realm ?? 'token realm'} (anonymous push token)`, answer: `${error.code}: ${error.message}` });
    } finally {
      await dispatcher.close();
    }
  }
  const location = headerText(start.answer.headers, 'location');
  if (start.answer.status !== 202 || !location) {
    return { checkId: 'registry.push.anonymous', status: 'pass', evidence, detail: `opening an upload without credentials is refused (${start.answer.status})` };
  }
  const cancel = await ask(context, { method: 'DELETE', path: location, ...(authorization ? { headers: { authorization } } : {}) });
  evidence.push(cancel.evidence);
  const cleaned = cancel.answer.status >= 200 && cancel.answer.status < 300;
  return {
    checkId: 'registry.push.anonymous',
    status: 'fail',
    evidence,
    detail: `anyone can start a push (upload to ${repository} opened${cleaned ? ' and cancelled' : `; cancelling it answered ${cancel.answer.status}, the empty upload may linger until the registry's upload purge`})`,
  };
}

async function checkCredentials(context: ProbeContext): Promise<CheckOutcome> {
  const tried: string[] = [];
  for (const credential of context.credentials.registry) {
    const client = new RegistryClient({
      baseUrl: new URL(`${context.http.origin}/`),
      registry: registryName(context),
      credentials: { username: credential.username, password: credential.password },
      limits: registryLimits(context),
      signal: context.signal,
    });
    try {
      context.signal.throwIfAborted();
      await client.ping();
      return {
        checkId: 'registry.credentials.default',
        status: 'fail',
        evidence: [{ request: `GET ${context.http.origin}/v2/ (basic credentials ${credential.username}:${'*'.repeat(credential.password.length)})`, answer: '200 accepted' }],
        detail: `user "${credential.username}" logs in with a shipped weak password (${credential.source})`,
      };
    } catch (error) {
      if (!isNomineError(error) || (error.code !== 'unauthorized' && error.code !== 'forbidden')) throw error;
      tried.push(credential.username);
    } finally {
      await client.close();
    }
  }
  return {
    checkId: 'registry.credentials.default',
    status: 'pass',
    evidence: [{ request: `GET ${context.http.origin}/v2/ with ${tried.length} shipped credentials, one attempt each`, answer: '401 for every one' }],
    detail: `none of the ${tried.length} default or weak passwords is accepted`,
  };
}

export const registryProbe: Probe = {
  id: 'registry',
  async run(context) {
    const root = await ask(context, { path: '/v2/' });
    const apiVersion = headerText(root.answer.headers, 'docker-distribution-api-version') ?? '';
    const isRegistry = apiVersion.startsWith('registry/2') || (root.answer.status === 200 && answerJson(root.answer) !== undefined && /registry/i.test(headerText(root.answer.headers, 'www-authenticate') ?? ''));
    if (!isRegistry) return nothingFound;
    const outcomes: CheckOutcome[] = [await checkCatalog(context), await checkPush(context)];
    if (root.answer.status === 401) outcomes.push(await checkCredentials(context));
    return { services: ['registry'], outcomes };
  },
};
