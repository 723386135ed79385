/**
 * Registry client: the few Distribution API v2 calls a scan needs (ping, manifest, blob, tags, catalog) for one
 * registry, with authentication negotiated on demand: a request goes out with what we already hold, and on a 401
 * we answer its challenge (basic credentials, or a bearer token for the scope) and retry once.
 */
import type { Agent } from 'undici';
import { NomineError } from '../../core/errors.ts';
import type { Limits } from '../../platform/limits.ts';
import { basicAuthorization, fetchBearerToken, parseAuthChallenges, type RegistryCredentials } from './registry-auth.ts';
import { createRegistryDispatcher, discardBody, headerValue, readBoundedBody, sendRegistryRequest, statusError, type RegistryResponse } from './registry-http.ts';

export interface RegistryClientOptions {
  baseUrl: URL;
  /** `HOST[:PORT]` as the user knows it, for messages. */
  registry: string;
  credentials?: RegistryCredentials;
  limits: Limits;
  signal?: AbortSignal;
}

export interface RegistryCall {
  /** Path and query under the base URL, or an absolute URL on the same origin (pagination links). */
  path: string;
  /** Token scope: `repository:app:pull`, `registry:catalog:*`. */
  scope: string;
  part: string;
  /** What was asked for, for messages: `tag 1 of repository app`. */
  subject: string;
  accept?: string[];
}

export interface FetchedDocument {
  bytes: Buffer;
  contentType?: string;
  /** `Docker-Content-Digest`, when the registry sent it. */
  digest?: string;
  headers: RegistryResponse['headers'];
}

export class RegistryClient {
  readonly registry: string;
  private readonly dispatcher: Agent;
  private readonly bearerByScope = new Map<string, string>();
  /** Set once the registry asked for basic auth, so later calls send it up front instead of collecting a 401. */
  private useBasic = false;

  constructor(private readonly options: RegistryClientOptions) {
    this.registry = options.registry;
    this.dispatcher = createRegistryDispatcher(options.limits);
  }

  get limits(): Limits {
    return this.options.limits;
  }

  get hasCredentials(): boolean {
    return this.options.credentials !== undefined;
  }

  /** `GET /v2/`: proves the endpoint speaks the Distribution API and settles authentication early. */
  async ping(): Promise<void> {
    const response = await this.call({ path: '/v2/', scope: '', part: `registry ${this.registry}`, subject: 'the API root /v2/' });
    discardBody(response.body);
  }

  /** Sends a GET, negotiating auth; resolves only with a 2xx answer, else rejects with the mapped NomineError. */
  async call(call: RegistryCall): Promise<RegistryResponse> {
    const url = new URL(call.path, this.options.baseUrl);
    if (url.origin !== this.options.baseUrl.origin) {
      throw new NomineError('invalid-input', `the registry pointed to another origin (${url.origin})`, call.part);
    }
    const headers = call.accept ? { accept: call.accept.join(', ') } : undefined;
    let retried = false;
    for (;;) {
      const authorization = this.authorizationFor(call.scope);
      const response = await sendRegistryRequest(
        this.dispatcher,
        { url, part: call.part, ...(headers ? { headers } : {}), ...(authorization ? { authorization } : {}) },
        this.options.signal,
      );
      if (response.status >= 200 && response.status < 300) return response;
      if (response.status === 401 && !retried && (await this.answerChallenge(response, call))) {
        retried = true;
        continue;
      }
      throw await statusError(response, { part: call.part, subject: call.subject, hadCredentials: this.hasCredentials, registry: this.registry });
    }
  }

  /** GETs a JSON document bounded by limits.maxJsonBytes. */
  async fetchDocument(call: RegistryCall): Promise<FetchedDocument> {
    const response = await this.call(call);
    const bytes = await readBoundedBody(response, this.options.limits.maxJsonBytes, call.part, this.options.signal);
    const contentType = headerValue(response.headers, 'content-type')?.split(';', 1)[0]?.trim();
    const digest = headerValue(response.headers, 'docker-content-digest');
    return { bytes, headers: response.headers, ...(contentType ? { contentType } : {}), ...(digest ? { digest } : {}) };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private authorizationFor(scope: string): string | undefined {
    if (this.useBasic && this.options.credentials) return basicAuthorization(this.options.credentials);
    return this.bearerByScope.get(scope) ?? this.bearerByScope.get('');
  }

  /** Returns whether a retry is worth it: we obtained something new to send. */
  private async answerChallenge(response: RegistryResponse, call: RegistryCall): Promise<boolean> {
    const challenges = parseAuthChallenges(headerValue(response.headers, 'www-authenticate'));
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer) {
      discardBody(response.body);
      const token = await fetchBearerToken(
        this.dispatcher,
        {
          challenge: bearer,
          ...(call.scope ? { fallbackScope: call.scope } : {}),
          credentials: this.options.credentials,
          registry: this.registry,
          part: call.part,
        },
        this.options.signal,
      );
      this.bearerByScope.set(call.scope, `Bearer ${token}`);
      return true;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic') && this.options.credentials && !this.useBasic) {
      discardBody(response.body);
      this.useBasic = true;
      return true;
    }
    return false;
  }
}

export function repositoryScope(repository: string): string {
  return `repository:${repository}:pull`;
}
