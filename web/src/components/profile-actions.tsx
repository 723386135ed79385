/**
 * What an admin does to a profile: approve (enforce now), relearn, and choose the mode. Modes that act on
 * workloads (prevent kills processes, stop stops containers) and relearning ask for confirmation first. Viewers
 * see the mode and a note instead of buttons.
 */
import { useState } from 'react';
import { api } from '../api/client.ts';
import type { EnforcementMode, ProfileActionResult, ProfileDetail } from '../api/types.ts';
import { useSession } from '../session/session.tsx';
import { ErrorBanner } from './page.tsx';

const modes: { mode: EnforcementMode; hint: string }[] = [
  { mode: 'learn', hint: 'Learn only, never alert' },
  { mode: 'alert', hint: 'Alert on anything not allowed' },
  { mode: 'prevent', hint: 'Kill processes that deviate' },
  { mode: 'stop', hint: 'Stop the container on a deviation' },
];

type Pending = { kind: 'mode'; mode: EnforcementMode } | { kind: 'relearn' };

export function ProfileActions({ profile, onChanged }: { profile: ProfileDetail; onChanged(): void }) {
  const session = useSession();
  const [pending, setPending] = useState<Pending>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  if (!session.isAdmin) {
    return (
      <div className="profile-actions readonly" data-testid="profile-actions-readonly">
        <span className="muted small">You have read-only access: an admin can approve, relearn or change the mode.</span>
      </div>
    );
  }

  async function run(path: string, body: unknown, done: string) {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const result = await api.post<ProfileActionResult>(`/api/profiles/${encodeURIComponent(profile.id)}/${path}`, body);
      setNotice(result.changed ? `${done} Nodes pick it up at their next sync (revision ${result.revision}).` : 'Nothing to change.');
      onChanged();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
      setPending(undefined);
    }
  }

  const enforcing = profile.phase === 'enforcing';
  return (
    <div className="profile-actions" data-testid="profile-actions">
      <div className="profile-actions-row">
        <div className="segmented segmented-modes" role="radiogroup" aria-label="Mode">
          {modes.map(({ mode, hint }) => (
            <button
              key={mode}
              type="button"
              role="radio"
              aria-checked={profile.mode === mode}
              className={`mode-option mode-${mode}${profile.mode === mode ? ' active' : ''}`}
              title={hint}
              disabled={busy}
              onClick={() => {
                if (mode === profile.mode) return;
                if (mode === 'prevent' || mode === 'stop') setPending({ kind: 'mode', mode });
                else void run('mode', { mode }, `Mode set to ${mode}.`);
              }}
            >
              {mode}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="button button-primary"
          disabled={busy || enforcing}
          title={enforcing ? 'Already enforcing' : 'Stop learning and enforce what was learned so far'}
          onClick={() => void run('approve', {}, 'Approved: the profile is enforced now.')}
        >
          {!enforcing ? 'Approve' : profile.approvedAt ? 'Approved' : 'Enforcing'}
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => setPending({ kind: 'relearn' })}>
          Relearn
        </button>
      </div>
      {pending && (
        <div className="confirm" role="alertdialog" aria-label="Confirm">
          <span>
            {pending.kind === 'relearn'
              ? 'Forget everything this profile learned and learn again from now, on every node?'
              : pending.mode === 'prevent'
                ? 'Switch to prevent? Processes that deviate from the profile are killed, on every node.'
                : 'Switch to stop? A container that deviates from the profile is stopped, on every node.'}
          </span>
          <button
            type="button"
            className="button button-danger button-small"
            disabled={busy}
            onClick={() => (pending.kind === 'relearn' ? void run('relearn', {}, 'Relearning from now.') : void run('mode', { mode: pending.mode }, `Mode set to ${pending.mode}.`))}
          >
            {pending.kind === 'relearn' ? 'Relearn' : `Switch to ${pending.mode}`}
          </button>
          <button type="button" className="button button-ghost button-small" onClick={() => setPending(undefined)}>
            Cancel
          </button>
        </div>
      )}
      {notice && (
        <div className="banner banner-ok" role="status">
          {notice}
        </div>
      )}
      <ErrorBanner error={error} />
    </div>
  );
}
