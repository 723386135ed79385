/** Every container and host the nodes report, with its profile's mode; filters kept in the URL. */
import { Link } from 'react-router';
import type { EntityList } from '../api/types.ts';
import { ModeBadge, PhaseBadge } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { EnrolAgentGuide } from '../components/enrol-agent.tsx';
import { FilterBar } from '../components/filter-bar.tsx';
import { NodeSelect } from '../components/node-select.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';
import { useUrlFilters } from '../hooks/use-url-filters.ts';

export default function EntitiesPage() {
  const { params, set } = useUrlFilters();
  const filter = { node: params.get('node') ?? '', mode: params.get('mode') ?? '', kind: params.get('kind') ?? '', state: params.get('state') ?? 'running', text: params.get('q') ?? '', profile: params.get('profile') ?? '' };
  const { data, error } = useResource<EntityList>('/api/entities', { ...filter, limit: 500 }, { pollMs: 15_000 });
  const filtered = filter.node || filter.mode || filter.kind || filter.text || filter.profile || filter.state !== 'running';
  return (
    <>
      <PageHeader title="Entities" subtitle="Containers and hosts, each with the profile its workload learned." />
      <FilterBar query={filter.text} onSearch={(text) => set('q', text)} placeholder="name, image, workload…">
          <label>
            Node
            <NodeSelect value={filter.node} onChange={(node) => set('node', node)} />
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
      </FilterBar>
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
