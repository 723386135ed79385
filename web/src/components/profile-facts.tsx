/** The facts of a profile in one line: mode (and who chose it), phase, since when, revision, nodes. */
import { Link } from 'react-router';
import type { ProfileDetail } from '../api/types.ts';
import { plural, shortDigest } from '../format.ts';
import { ModeBadge, PhaseBadge } from './badges.tsx';
import { TimeAgo } from './time-ago.tsx';

export function ProfileFacts({ profile, link = false }: { profile: ProfileDetail; link?: boolean }) {
  return (
    <dl className="facts" data-testid="profile-facts">
      <div>
        <dt>Mode</dt>
        <dd data-testid="profile-mode">
          <ModeBadge mode={profile.mode} />
          <span className="muted small"> {profile.modeSetByName ? `set by ${profile.modeSetByName}` : 'node default'}</span>
        </dd>
      </div>
      <div>
        <dt>Phase</dt>
        <dd data-testid="profile-phase">
          <PhaseBadge phase={profile.phase} />{' '}
          <span className="muted small">
            {profile.phase === 'enforcing' ? (
              <>
                since <TimeAgo at={profile.enforcingSince ?? profile.approvedAt} />
                {profile.approvedBy ? `, approved by ${profile.approvedBy}` : ''}
              </>
            ) : (
              <>
                since <TimeAgo at={profile.learningStartedAt ?? profile.createdAt} />
              </>
            )}
          </span>
        </dd>
      </div>
      <div>
        <dt>Workload</dt>
        <dd>{link ? <Link to={`/profiles/${encodeURIComponent(profile.id)}`}>{profile.workload}</Link> : profile.workload}</dd>
      </div>
      <div>
        <dt>Image</dt>
        <dd className="code small" title={profile.imageDigest}>
          {profile.image ?? shortDigest(profile.imageDigest)}
        </dd>
      </div>
      <div>
        <dt>Learned on</dt>
        <dd>{plural(profile.nodes, 'node')}</dd>
      </div>
      <div>
        <dt>Revision</dt>
        <dd data-testid="profile-revision">{profile.revision}</dd>
      </div>
    </dl>
  );
}
