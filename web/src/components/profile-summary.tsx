/**
 * What a profile panel shows, on an entity's page and on the profile's own: the facts, the admin's actions, a
 * warning when parts of the stored profile could not be read, and the allowances tab by tab.
 */
import type { ProfileDetail } from '../api/types.ts';
import { ProfileActions } from './profile-actions.tsx';
import { ProfileFacts } from './profile-facts.tsx';
import { AllowanceTabs } from './profile-view.tsx';

export function ProfileSummary({ profile, link = false, onChanged }: { profile: ProfileDetail; link?: boolean; onChanged(): void }) {
  return (
    <>
      <ProfileFacts profile={profile} link={link} />
      <ProfileActions profile={profile} onChanged={onChanged} />
      {profile.problems.length > 0 && <div className="banner banner-warn">Parts of the stored profile could not be read: {profile.problems.join('; ')}</div>}
      <AllowanceTabs allow={profile.allow} learning={profile.phase === 'learning'} />
    </>
  );
}
