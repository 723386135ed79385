/**
 * Registry listing: every `docker://HOST/REPO:TAG` a registry holds, from the catalog API (`/v2/_catalog`) and each
 * repository's tag list, both paginated through `Link: <…>; rel="next"` and bounded by
 * limits.maxRegistryRepositories / maxRegistryTags. `scan registry` feeds these references to registrySource.
 */
import { z } from 'zod';
import { NomineError, isNomineError } from '../../core/errors.ts';
import type { SourceContext } from '../image-source.ts';
import { resolveCredentials } from './registry-auth.ts';
import { RegistryClient, repositoryScope, type RegistryCall } from './registry-client.ts';
import { headerValue, readBoundedBody } from './registry-http.ts';
import { parseRegistryReference, registryBaseUrl } from './registry-reference.ts';

export interface ListingNotice {
  part: string;
  message: string;
}

export interface ListingOptions {
  /** Entries asked for per page (`n=`); registries may cap it lower. */
  pageSize?: number;
  /**
   * Told about what the listing left out (a bound reached, a repository without tags that vanished). Without it,
   * reaching a bound throws limit-exceeded after yielding what fitted, so nothing is dropped silently.
   */
  onNotice?: (notice: ListingNotice) => void;
}

const catalogSchema = z.object({ repositories: z.array(z.string()).nullable().optional() });
const tagListSchema = z.object({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() });

/** Next page from `Link: </v2/_catalog?last=a&n=1>; rel="next"` (RFC 8288), if any. */
export function nextPageLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const link of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(link);
    if (match?.[1] !== undefined && /;\s*rel="?next"?/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

/** Splits `HOST[:PORT][/REPO]` (a `docker://` prefix is tolerated). */
export function parseListingTarget(target: string): { registry: string; endpointHost: string; repository?: string } {
  const trimmed = target.trim().replace(/^docker:/, '').replace(/^\/\//, '').replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  if (slash === -1) {
    // A bare host: parse with a placeholder repository so the host gets the same validation as in references.
    const parsed = parseRegistryReference(`${trimmed}/placeholder`);
    if (parsed.registry !== trimmed && !(parsed.registry === 'docker.io' && trimmed === 'docker.io')) {
      throw new NomineError('invalid-input', `"${target}" is not HOST[:PORT][/REPO]`, `registry ${target}`);
    }
    return { registry: parsed.registry, endpointHost: parsed.endpointHost };
  }
  const parsed = parseRegistryReference(trimmed);
  if (parsed.digest || parsed.tag !== 'latest' || trimmed.endsWith(':latest')) {
    throw new NomineError('invalid-input', `"${target}" names a tag or digest; list a registry or a repository`, `registry ${target}`);
  }
  return { registry: parsed.registry, endpointHost: parsed.endpointHost, repository: parsed.repository };
}

export async function* listRegistryImages(target: string, context: SourceContext, options: ListingOptions = {}): AsyncGenerator<string> {
  const { registry, endpointHost, repository } = parseListingTarget(target);
  const credentials = resolveCredentials(context.registry);
  const client = new RegistryClient({
    baseUrl: registryBaseUrl(endpointHost, context.registry?.insecure),
    registry,
    ...(credentials ? { credentials } : {}),
    limits: context.limits,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const pageSize = options.pageSize ?? 100;
  const exceeded = (notice: ListingNotice) => {
    if (!options.onNotice) throw new NomineError('limit-exceeded', notice.message, notice.part);
    options.onNotice(notice);
  };
  try {
    await client.ping();
    const repositories = repository ? [repository] : paginate(client, {
      path: `/v2/_catalog?n=${pageSize}`,
      scope: 'registry:catalog:*',
      part: `registry ${registry}`,
      subject: 'the repository catalog',
    }, (json) => catalogSchema.parse(json).repositories ?? []);

    let repositoryCount = 0;
    for await (const name of repositories) {
      if (++repositoryCount > context.limits.maxRegistryRepositories) {
        exceeded({ part: `registry ${registry}`, message: `the registry has more than ${context.limits.maxRegistryRepositories} repositories; listed the first ones only (raise limits.maxRegistryRepositories)` });
        break;
      }
      let tagCount = 0;
      try {
        for await (const tag of paginate(client, {
          path: `/v2/${name}/tags/list?n=${pageSize}`,
          scope: repositoryScope(name),
          part: `repository ${name}`,
          subject: `repository ${name}`,
        }, (json) => tagListSchema.parse(json).tags ?? [])) {
          if (++tagCount > context.limits.maxRegistryTags) {
            exceeded({ part: `repository ${name}`, message: `repository ${name} has more than ${context.limits.maxRegistryTags} tags; listed the first ones only (raise limits.maxRegistryTags)` });
            break;
          }
          yield `docker://${registry}/${name}:${tag}`;
        }
      } catch (error) {
        // A catalogued repository can lose its last tag (or be deleted) while we walk; that is not fatal to the rest.
        if (!repository && isNomineError(error) && error.code === 'not-found' && options.onNotice) {
          options.onNotice({ part: `repository ${name}`, message: `repository ${name} has no tags any more; skipped` });
          continue;
        }
        throw error;
      }
    }
  } finally {
    await client.close();
  }
}

/** Yields the items of each page, following `rel="next"` links; a link seen twice is a loop and stops with an error. */
async function* paginate(client: RegistryClient, first: RegistryCall, items: (json: unknown) => string[]): AsyncGenerator<string> {
  const seen = new Set<string>();
  let path: string | undefined = first.path;
  while (path !== undefined) {
    if (seen.has(path)) throw new NomineError('invalid-input', `the registry's pagination loops back to ${path}`, first.part);
    seen.add(path);
    const response = await client.call({ ...first, path });
    const bytes = await readBoundedBody(response, client.limits.maxJsonBytes, first.part);
    let page: string[];
    try {
      page = items(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      throw new NomineError('invalid-input', `the registry answered ${first.subject} with a malformed document`, first.part, { cause: error });
    }
    yield* page;
    path = nextPageLink(headerValue(response.headers, 'link'));
    if (page.length === 0) break;
  }
}
