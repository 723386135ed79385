/**
 * Docker container facts: the Engine API's inspect document of each container, as is. Checks address it by the
 * names `docker inspect` shows (`HostConfig.Privileged`, `Mounts[*].Source`), so a reader can verify a result
 * with the CLI they already know. Daemon-wide defaults that change a container's effective settings are added
 * under `daemon` (a key inspect never uses); running containers also get `Processes`, the command lines from
 * /containers/{id}/top (CIS 5.7 sshd). A container that vanishes between list and inspect is an error result, not a crash.
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
  daemonDefaults?: { noNewPrivileges: boolean; selinux?: boolean };
}

interface TopResult {
  Titles?: string[] | null;
  Processes?: string[][] | null;
}

/** The command lines of a running container's processes (GET /containers/{id}/top, its CMD/COMMAND column). */
export function processCommands(top: TopResult): string[] {
  const titles = top.Titles ?? [];
  let column = titles.findIndex((title) => title === 'CMD' || title === 'COMMAND');
  if (column < 0) column = titles.length - 1;
  return (top.Processes ?? []).map((row) => (column >= 0 ? row[column] : row[row.length - 1]) ?? '').filter((command) => command !== '');
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
      const facts: Record<string, unknown> = options.daemonDefaults ? { ...inspect, daemon: options.daemonDefaults } : { ...inspect };
      if ((inspect.State as { Running?: boolean } | undefined)?.Running === true) {
        // A container that stops between inspect and top just has no process facts (its 5.7 check does not apply).
        const top = await client.json<TopResult>({ path: `/containers/${encodeURIComponent(summary.Id)}/top`, part: `container ${name} processes`, ...(options.signal ? { signal: options.signal } : {}) }).catch(() => undefined);
        if (top) facts.Processes = processCommands(top);
      }
      collection.entities.push({ target: 'docker.container', kind: 'container', name, facts });
    } catch (error) {
      const failure = toNomineError(error);
      collection.errors.push({ target: 'docker.container', kind: 'container', name, code: failure.code, message: failure.describe() });
    }
  }
  return collection;
}
