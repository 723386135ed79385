/**
 * How to get the first data in: enrol an agent on each node with a join token (`nomine agent enrol`), then run it.
 * Admins create the token here; it is shown once, inside the commands to run.
 */
import { useState } from 'react';
import { api } from '../api/client.ts';
import type { JoinTokenCreated } from '../api/types.ts';
import { useSession } from '../session/session.tsx';
import { CommandBlock } from './code.tsx';

const joinTokenTtlSeconds = 24 * 3600;

export function EnrolAgentGuide() {
  const session = useSession();
  const [token, setToken] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const server = window.location.origin;

  async function create() {
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.post<JoinTokenCreated>('/api/join-tokens', { name: `console ${new Date().toISOString().slice(0, 16)}`, ttlSeconds: joinTokenTtlSeconds });
      setToken(created.token);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="enrol-guide">
      <ol className="steps">
        <li>
          <strong>Create a join token.</strong>{' '}
          {session.isAdmin ? (
            token ? (
              <>
                <span className="muted">Shown once: copy it now. It enrols any number of nodes for 24 hours.</span>
                <CommandBlock command={token} />
              </>
            ) : (
              <button type="button" className="button button-small button-primary" onClick={() => void create()} disabled={busy}>
                {busy ? 'Creating…' : 'Create join token'}
              </button>
            )
          ) : (
            <span className="muted">Ask an admin: only admins create join tokens.</span>
          )}
          {error && <div className="banner banner-error">{error}</div>}
        </li>
        <li>
          <strong>Save it on each node</strong> as <code className="code">/root/nomine-join-token</code> (mode 600: a file keeps it out of the
          process list), then enrol the node and start its agent as root, so it can use eBPF:
          <CommandBlock command={[`nomine agent enrol --server ${server} --join-token-file /root/nomine-join-token`, 'nomine agent run'].join('\n')} />
        </li>
        <li>
          <strong>Watch it arrive.</strong> <span className="muted">The node shows up here within seconds, then its containers and what they do.</span>
        </li>
      </ol>
    </div>
  );
}
