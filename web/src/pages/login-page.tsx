/** Log in with a username and password; back to the page that asked for it. */
import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../api/client.ts';
import { ErrorBanner } from '../components/page.tsx';
import { useSession } from '../session/session.tsx';
import { AuthFrame } from './auth-frame.tsx';

export default function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  if (session.status === 'authenticated') return <Navigate to={from} replace />;
  if (session.status === 'anonymous' && session.setupNeeded) return <Navigate to="/setup" replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await session.login(username.trim(), password);
      navigate(from, { replace: true });
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 401
          ? 'Wrong username or password.'
          : failure instanceof ApiError && failure.status === 429
            ? `Too many attempts. ${failure.message.replace(/^login: /, '')}.`
            : (failure as Error).message,
      );
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Log in to nomine" subtitle="The console for your nodes, workloads, alerts and scans.">
      <form className="form" onSubmit={(event) => void submit(event)}>
        <ErrorBanner error={error} />
        <label>
          Username
          <input name="username" autoComplete="username" autoFocus required value={username} onChange={(event) => setUsername(event.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </label>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </AuthFrame>
  );
}
