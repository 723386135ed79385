/** Every container and host the nodes report, with its profile's mode; filters kept in the URL. */
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { EntityList, NodeList } from '../api/types.ts';
import { ModeBadge, PhaseBadge } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { EnrolAgentGuide } from '../components/enrol-agent.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';

export default function EntitiesPage() {
  const [params, setParams] = useSearchParams();
  const filter = { node: params.get('node') ?? '', mode: params.get('mode') ?? '', kind: params.get('kind') ?? '', state: params.get('state') ?? 'running', text: params.get('q') ?? '', profile: params.get('profile') ?? '' };
  const [text, setText] = useState(filter.text);
  const nodes = useResource<NodeList>('/api/nodes');
  const { data, error } = useResource<EntityList>('/api/entities', { ...filter, limit: 500 }, { pollMs: 15_000 });
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const filtered = filter.node || filter.mode || filter.kind || filter.text || filter.profile || filter.state !== 'running';
  return (
    <>
      <PageHeader title="Entities" subtitle="Containers and hosts, each with the profile its workload learned." />
      <Panel>
        <form
          className="filters"
          onSubmit={(event) => {
            event.preventDefault();
            set('q', text.trim());
          }}
        >
          <label>
            Node
            <select value={filter.node} onChange={(event) => set('node', event.target.value)}>
              <option value="">Any node</option>
              {nodes.data?.nodes.map((node) => (
                <option key={node.id} value={node.id}>
                  {node.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Mode
            <select value={filter.mode} onChange={(event) => set('mode', event.target.value)}>
              <option value="">Any mode</option>
              {['learn', 'alert', 'prevent', 'stop'].map((mode) => (
                <option key={mode} value={mode}>
                  {mode}
                </option>
              ))}
              <option value="none">no profile</option>
            </select>
          </label>
          <label>
            Kind
            <select value={filter.kind} onChange={(event) => set('kind', event.target.value)}>
              <option value="">Containers and hosts</option>
              <option value="container">Containers</option>
              <option value="host">Hosts</option>
            </select>
          </label>
          <label>
            State
            <select value={filter.state} onChange={(event) => set('state', event.target.value === 'running' ? '' : event.target.value)}>
              <option value="running">Running</option>
              <option value="gone">Gone</option>
              <option value="all">All</option>
            </select>
          </label>
          <label className="grow">
            Search
            <input type="search" placeholder="name, image, workload…" value={text} onChange={(event) => setText(event.target.value)} onBlur={() => set('q', text.trim())} />
          </label>
        </form>
      </Panel>
      <ErrorBanner error={error} />
      <Panel>
        {!data ? (
          <Loading />
        ) : data.entities.length === 0 ? (
          filtered ? (
            <EmptyState title="No entities match these filters" icon="⌕" />
          ) : (
            <EmptyState title="No entities yet" icon="▣">
              <p>Entities appear when an agent reports the containers and host of its node.</p>
              <EnrolAgentGuide />
            </EmptyState>
          )
        ) : (
          <>
            <table className="table table-hover" data-testid="entity-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Node</th>
                  <th>Image</th>
                  <th>Workload</th>
                  <th>Mode</th>
                  <th className="right">Alerts</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.entities.map((entity) => (
                  <tr key={`${entity.agentId}/${entity.entityId}`}>
                    <td>
                      <Link to={`/entities/${encodeURIComponent(entity.agentId)}/${encodeURIComponent(entity.entityId)}`} className="strong">
                        {entity.name}
                      </Link>
                      <div className="muted small">{entity.kind}{entity.goneAt ? ' · gone' : ''}</div>
                    </td>
                    <td>{entity.nodeName}</td>
                    <td className="truncate code small">{entity.image ?? '—'}</td>
                    <td className="truncate small">{entity.workload ?? '—'}</td>
                    <td className="nowrap">
                      <ModeBadge mode={entity.mode} /> <PhaseBadge phase={entity.phase} />
                    </td>
                    <td className="right">{entity.alerts > 0 ? <Link to={`/alerts?q=${encodeURIComponent(entity.name)}`}>{entity.alerts}</Link> : <span className="muted">0</span>}</td>
                    <td className="nowrap muted">
                      <TimeAgo at={entity.goneAt ?? entity.lastSeenAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.truncated && <p className="muted small">Showing the first {data.entities.length}; narrow the filters to see the rest.</p>}
          </>
        )}
      </Panel>
    </>
  );
}
