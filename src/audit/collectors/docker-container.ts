/**
 * Docker container facts: the Engine API's inspect document of each container, as is. Checks address it by the
 * names `docker inspect` shows (`HostConfig.Privileged`, `Mounts[*].Source`), so a reader can verify a result
 * with the CLI they already know. Daemon-wide defaults that change a container's effective settings are added
 * under `daemon` (a key inspect never uses). A container that vanishes between list and inspect is an error result, not a crash.
 */
import { toNomineError } from '../../core/errors.ts';
import type { DockerClient } from '../../platform/docker-client.ts';
import { emptyCollection, type Collection } from '../audit-entity.ts';

export interface ContainerCollectorOptions {
  /** Stopped containers too; CIS audits running ones, but a stopped privileged container is one `start` away. */
  all?: boolean;
  /** Only these names or id prefixes. */
  only?: readonly string[];
  signal?: AbortSignal;
  /** Daemon-wide defaults that apply to every container but do not show in its inspect (daemon.json no-new-privileges). */
  daemonDefaults?: { noNewPrivileges: boolean };
}

interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
}

function containerName(names: readonly string[] | null | undefined, id: string): string {
  return (names?.[0] ?? id.slice(0, 12)).replace(/^\//, '');
}

export async function collectDockerContainers(client: DockerClient, options: ContainerCollectorOptions = {}): Promise<Collection> {
  const collection = emptyCollection();
  let list: ContainerSummary[];
  try {
    list = await client.json<ContainerSummary[]>({ path: '/containers/json', query: { all: options.all ? 'true' : 'false' }, part: 'container list', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    const failure = toNomineError(error);
    collection.errors.push({ target: 'docker.container', kind: 'container', name: 'containers', code: failure.code, message: failure.describe() });
    return collection;
  }
  for (const summary of list) {
    const name = containerName(summary.Names, summary.Id);
    if (options.only && !options.only.some((wanted) => wanted === name || summary.Id.startsWith(wanted))) continue;
    try {
      const inspect = await client.json<Record<string, unknown>>({ path: `/containers/${encodeURIComponent(summary.Id)}/json`, part: `container ${name}`, ...(options.signal ? { signal: options.signal } : {}) });
      collection.entities.push({ target: 'docker.container', kind: 'container', name, facts: options.daemonDefaults ? { ...inspect, daemon: options.daemonDefaults } : inspect });
    } catch (error) {
      const failure = toNomineError(error);
      collection.errors.push({ target: 'docker.container', kind: 'container', name, code: failure.code, message: failure.describe() });
    }
  }
  return collection;
}
