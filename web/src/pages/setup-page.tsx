/**
 * First run: the link `nomine server` prints (`/setup#token=…`) opens this page. The token sits in the fragment,
 * which the browser never sends anywhere; the page reads it, removes it from the address bar, and creates the
 * first admin with it, then logs in.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import { CommandBlock } from '../components/code.tsx';
import { ErrorBanner } from '../components/page.tsx';
import { useSession } from '../session/session.tsx';
import { AuthFrame } from './auth-frame.tsx';

function tokenFromFragment(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

export default function SetupPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [token, setToken] = useState(tokenFromFragment);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // The secret should not linger in the address bar, history or a screenshot.
    const take = () => {
      const found = tokenFromFragment();
      if (found) setToken(found);
      if (window.location.hash) window.history.replaceState(window.history.state, '', window.location.pathname);
    };
    take();
    // The link opened in a tab that already shows this page changes only the fragment.
    window.addEventListener('hashchange', take);
    return () => window.removeEventListener('hashchange', take);
  }, []);

  if (session.status === 'authenticated') return <Navigate to="/" replace />;
  if (session.status === 'anonymous' && !session.setupNeeded) {
    return (
      <AuthFrame title="Setup is complete" subtitle="The first admin exists already.">
        <button type="button" className="button button-primary button-block" onClick={() => navigate('/login')}>
          Go to log in
        </button>
      </AuthFrame>
    );
  }
  if (!token) {
    return (
      <AuthFrame title="Open the setup link" subtitle="The first admin is created with a one-time link, so the console never has a default password.">
        <p>Start the console and open the link it prints:</p>
        <CommandBlock command="nomine server" />
        <p className="muted">The link looks like http://127.0.0.1:7480/setup#token=… and works once, for 30 minutes. Restart the server for a new one.</p>
      </AuthFrame>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password !== confirm) {
      setError('The passwords do not match.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/api/setup', { token, username: username.trim(), password });
      await session.login(username.trim(), password);
      navigate('/', { replace: true });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message.replace(/^body\.\w+: /, '') : (failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Create the first admin" subtitle="This link works once. Choose a password of at least 12 characters that does not contain the username.">
      <form className="form" onSubmit={(event) => void submit(event)}>
        <ErrorBanner error={error} />
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onChange={(event) => setUsername(event.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" required minLength={12} value={password} onChange={(event) => setPassword(event.target.value)} />
        </label>
        <label>
          Repeat the password
          <input name="confirm" type="password" autoComplete="new-password" required value={confirm} onChange={(event) => setConfirm(event.target.value)} />
        </label>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating…' : 'Create admin and log in'}
        </button>
      </form>
    </AuthFrame>
  );
}
