/** One container or host: its profile (what it may do, learned when and where), its deviations, its activity. */
import { Link, useParams } from 'react-router';
import type { EntityDetail } from '../api/types.ts';
import { AlertTable } from '../components/alert-table.tsx';
import { DetailHeader } from '../components/detail-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { ErrorBanner, Loading, Panel } from '../components/page.tsx';
import { ProfileSummary } from '../components/profile-summary.tsx';
import { Contributions, History } from '../components/profile-view.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';

export default function EntityPage() {
  const { agentId = '', entityId = '' } = useParams();
  const { data, error, reload } = useResource<EntityDetail>(`/api/entities/${encodeURIComponent(agentId)}/${encodeURIComponent(entityId)}`, {}, { pollMs: 10_000 });
  if (!data) return error ? <ErrorBanner error={error} /> : <Loading />;
  const { entity, profile } = data;
  return (
    <>
      <DetailHeader
        list={{ to: '/entities', label: 'Entities' }}
        name={entity.name}
        mode={entity.mode}
        subtitle={
          <>
            {entity.kind} on <Link to={`/entities?node=${encodeURIComponent(entity.agentId)}`}>{entity.nodeName}</Link>
            {entity.image && <> · <span className="code">{entity.image}</span></>}
            {' · '}
            {entity.goneAt ? (
              <>
                gone <TimeAgo at={entity.goneAt} />
              </>
            ) : (
              <>
                running, last seen <TimeAgo at={entity.lastSeenAt} />
              </>
            )}
          </>
        }
      />
      <ErrorBanner error={error} />
      <div className="stack">
        {profile ? (
          <Panel title="Profile" actions={<Link to={`/profiles/${encodeURIComponent(profile.id)}`}>Open profile</Link>}>
            <ProfileSummary profile={profile} link onChanged={reload} />
          </Panel>
        ) : (
          <Panel title="Profile">
            <EmptyState title="No profile yet" icon="☰">
              The agent creates one when the workload first runs something. Hosts are profiled once the agent is told to learn them.
            </EmptyState>
          </Panel>
        )}
        <Panel title="Deviations" actions={<Link to={`/alerts?q=${encodeURIComponent(entity.name)}`}>In the alert list</Link>}>
          {data.alerts.length === 0 ? <p className="muted">This entity has not deviated from its profile.</p> : <AlertTable alerts={data.alerts} compact />}
        </Panel>
        {profile && (
          <div className="grid-2">
            <Panel title="Learned on each node">
              <Contributions profile={profile} />
            </Panel>
            <Panel title="History">
              <History profile={profile} />
            </Panel>
          </div>
        )}
        <Panel title="Recent activity">
          {data.eventSummaries.length === 0 ? (
            <p className="muted">No event counts reported yet.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Window</th>
                  <th>Events</th>
                </tr>
              </thead>
              <tbody>
                {data.eventSummaries.slice(0, 12).map((window) => (
                  <tr key={window.windowStart}>
                    <td className="nowrap muted">
                      <TimeAgo at={window.windowEnd} />
                    </td>
                    <td>
                      {Object.entries(window.counts)
                        .map(([type, n]) => `${n} ${type}`)
                        .join(' · ') || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
      </div>
    </>
  );
}
