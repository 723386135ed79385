/**
 * Docker image facts: the Engine API's inspect document of each local image (`Config.User`, `Config.Healthcheck`),
 * plus its build history (`History[*].CreatedBy`: the Dockerfile instructions, for ADD of remote URLs).
 * Images are named by their first tag, else their short id, so results match what `docker images` shows.
 */
import { toNomineError } from '../../core/errors.ts';
import type { DockerClient } from '../../platform/docker-client.ts';
import { emptyCollection, type Collection } from '../audit-entity.ts';

interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
}

function imageName(summary: ImageSummary): string {
  const tag = summary.RepoTags?.find((t) => t !== '<none>:<none>');
  return tag ?? summary.Id.replace(/^sha256:/, '').slice(0, 12);
}

export async function collectDockerImages(client: DockerClient, options: { only?: readonly string[]; signal?: AbortSignal } = {}): Promise<Collection> {
  const collection = emptyCollection();
  let list: ImageSummary[];
  try {
    list = await client.json<ImageSummary[]>({ path: '/images/json', part: 'image list', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    const failure = toNomineError(error);
    collection.errors.push({ target: 'docker.image', kind: 'image', name: 'images', code: failure.code, message: failure.describe() });
    return collection;
  }
  for (const summary of list) {
    const name = imageName(summary);
    if (options.only && !options.only.some((wanted) => wanted === name || summary.Id.replace(/^sha256:/, '').startsWith(wanted) || summary.RepoTags?.includes(wanted))) continue;
    try {
      const inspect = await client.inspectImage(summary.Id, options.signal);
      const history = await client.json<unknown[]>({ path: `/images/${encodeURIComponent(summary.Id)}/history`, part: `image ${name}`, ...(options.signal ? { signal: options.signal } : {}) });
      collection.entities.push({ target: 'docker.image', kind: 'image', name, facts: { ...(inspect as object), History: history } });
    } catch (error) {
      const failure = toNomineError(error);
      collection.errors.push({ target: 'docker.image', kind: 'image', name, code: failure.code, message: failure.describe() });
    }
  }
  return collection;
}
