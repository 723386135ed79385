/** Every workload's merged profile: mode, phase, how many nodes learned it. */
import { Link } from 'react-router';
import type { ProfileList } from '../api/types.ts';
import { ModeBadge, PhaseBadge } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { FilterBar } from '../components/filter-bar.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';
import { useUrlFilters } from '../hooks/use-url-filters.ts';

export default function ProfilesPage() {
  const { params, set } = useUrlFilters();
  const filter = { mode: params.get('mode') ?? '', phase: params.get('phase') ?? '', text: params.get('q') ?? '' };
  const { data, error } = useResource<ProfileList>('/api/profiles', { ...filter, limit: 500 }, { pollMs: 15_000 });
  return (
    <>
      <PageHeader title="Profiles" subtitle="What each workload learned to do, merged across every node that runs it." />
      <FilterBar query={filter.text} onSearch={(text) => set('q', text)} placeholder="workload, image, id…">
          <label>
            Mode
            <select value={filter.mode} onChange={(event) => set('mode', event.target.value)}>
              <option value="">Any mode</option>
              {['learn', 'alert', 'prevent', 'stop'].map((mode) => (
                <option key={mode}>{mode}</option>
              ))}
            </select>
          </label>
          <label>
            Phase
            <select value={filter.phase} onChange={(event) => set('phase', event.target.value)}>
              <option value="">Any phase</option>
              <option value="learning">Learning</option>
              <option value="enforcing">Enforcing</option>
            </select>
          </label>
      </FilterBar>
      <ErrorBanner error={error} />
      <Panel>
        {!data ? (
          <Loading />
        ) : data.profiles.length === 0 ? (
          <EmptyState title="No profiles yet" icon="☰">
            Agents learn one profile per workload (image and owner) as soon as it runs, and send it here.
          </EmptyState>
        ) : (
          <table className="table table-hover" data-testid="profile-table">
            <thead>
              <tr>
                <th>Workload</th>
                <th>Image</th>
                <th>Mode</th>
                <th>Phase</th>
                <th className="right">Nodes</th>
                <th className="right">Running</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {data.profiles.map((profile) => (
                <tr key={profile.id}>
                  <td>
                    <Link to={`/profiles/${encodeURIComponent(profile.id)}`} className="strong">
                      {profile.workload}
                    </Link>
                  </td>
                  <td className="code small truncate">{profile.image ?? '—'}</td>
                  <td>
                    <ModeBadge mode={profile.mode} />
                    {profile.modeSetByName && <span className="muted small"> by {profile.modeSetByName}</span>}
                  </td>
                  <td>
                    <PhaseBadge phase={profile.phase} />
                  </td>
                  <td className="right">{profile.nodes}</td>
                  <td className="right">{profile.entities}</td>
                  <td className="muted nowrap">
                    <TimeAgo at={profile.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </>
  );
}
