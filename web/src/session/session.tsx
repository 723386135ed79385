/**
 * Who is logged in: the session from GET /api/me (the cookie is HttpOnly, so asking is the only way to know),
 * its CSRF token handed to the API client, and whether the first admin still has to be created. Pages read it
 * with `useSession()`; `RequireSession` sends strangers to the login or setup page.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { ApiError, api, onUnauthorized, setCsrfToken } from '../api/client.ts';
import type { LoginResponse, Me, SetupStatus } from '../api/types.ts';

interface SessionUser {
  name: string;
  role: Me['role'];
}

interface SessionState {
  status: 'loading' | 'anonymous' | 'authenticated';
  user: SessionUser | undefined;
  setupNeeded: boolean;
  isAdmin: boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<SessionState['status']>('loading');
  const [user, setUser] = useState<SessionUser>();
  const [setupNeeded, setSetupNeeded] = useState(false);

  const becomeAnonymous = useCallback(async () => {
    setCsrfToken(undefined);
    setUser(undefined);
    const setup = await api.get<SetupStatus>('/api/setup').catch(() => ({ setupNeeded: false }));
    setSetupNeeded(setup.setupNeeded);
    setStatus('anonymous');
  }, []);

  const refresh = useCallback(async () => {
    try {
      const me = await api.get<Me>('/api/me');
      setCsrfToken(me.csrfToken);
      setUser({ name: me.name, role: me.role });
      setSetupNeeded(false);
      setStatus('authenticated');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) await becomeAnonymous();
      else throw error;
    }
  }, [becomeAnonymous]);

  useEffect(() => {
    void refresh().catch(() => setStatus('anonymous'));
    return onUnauthorized(() => void becomeAnonymous());
  }, [refresh, becomeAnonymous]);

  const login = useCallback(async (username: string, password: string) => {
    const answer = await api.post<LoginResponse>('/api/login', { username, password });
    setCsrfToken(answer.csrfToken);
    setUser({ name: answer.user.username, role: answer.user.role });
    setSetupNeeded(false);
    setStatus('authenticated');
  }, []);

  const logout = useCallback(async () => {
    await api.post('/api/logout', undefined).catch(() => undefined);
    await becomeAnonymous();
  }, [becomeAnonymous]);

  const value = useMemo<SessionState>(
    () => ({ status, user, setupNeeded, isAdmin: user?.role === 'admin', login, logout }),
    [status, user, setupNeeded, login, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

export function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.status === 'loading') return <div className="splash" aria-busy="true" />;
  if (session.status === 'anonymous') {
    return <Navigate to={session.setupNeeded ? '/setup' : '/login'} replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return <>{children}</>;
}
