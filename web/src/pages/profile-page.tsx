/** One workload's merged profile across every node that runs it. */
import { Link, useParams } from 'react-router';
import type { EntityList, ProfileDetail } from '../api/types.ts';
import { AlertTable } from '../components/alert-table.tsx';
import { DetailHeader } from '../components/detail-header.tsx';
import { ErrorBanner, Loading, Panel } from '../components/page.tsx';
import { ProfileSummary } from '../components/profile-summary.tsx';
import { Contributions, History } from '../components/profile-view.tsx';
import { useResource } from '../hooks/use-resource.ts';

export default function ProfilePage() {
  const { id = '' } = useParams();
  const { data: profile, error, reload } = useResource<ProfileDetail>(`/api/profiles/${encodeURIComponent(id)}`, {}, { pollMs: 10_000 });
  const entities = useResource<EntityList>('/api/entities', { profile: id, limit: 100 });
  if (!profile) return error ? <ErrorBanner error={error} /> : <Loading />;
  return (
    <>
      <DetailHeader
        list={{ to: '/profiles', label: 'Profiles' }}
        name={profile.workload}
        mode={profile.mode}
        subtitle={<span className="code small">{profile.id}</span>}
      />
      <ErrorBanner error={error} />
      <div className="stack">
        <Panel title="Profile">
          <ProfileSummary profile={profile} onChanged={reload} />
        </Panel>
        <Panel title="Running as">
          {entities.data?.entities.length ? (
            <div className="chips">
              {entities.data.entities.map((entity) => (
                <Link key={`${entity.agentId}/${entity.entityId}`} className="chip chip-link" to={`/entities/${encodeURIComponent(entity.agentId)}/${encodeURIComponent(entity.entityId)}`}>
                  {entity.name} <span className="muted">on {entity.nodeName}</span>
                </Link>
              ))}
            </div>
          ) : (
            <p className="muted">No entity runs this profile now.</p>
          )}
        </Panel>
        <Panel title="Recent deviations" actions={<Link to={`/alerts?workload=${encodeURIComponent(profile.workload)}`}>In the alert list</Link>}>
          {profile.alerts.length === 0 ? <p className="muted">No deviations.</p> : <AlertTable alerts={profile.alerts} />}
        </Panel>
        <div className="grid-2">
          <Panel title="Learned on each node">
            <Contributions profile={profile} />
          </Panel>
          <Panel title="History">
            <History profile={profile} />
          </Panel>
        </div>
      </div>
    </>
  );
}
