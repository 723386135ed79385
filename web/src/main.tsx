/**
 * The console's web UI: routes behind the session check. Pages are small and bundled together (one request on
 * loopback or a LAN beats many); the charts, most of the weight, load on their own when the overview needs them.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider, createBrowserRouter } from 'react-router';
import { AppShell } from './layout/app-shell.tsx';
import AlertsPage from './pages/alerts-page.tsx';
import EntitiesPage from './pages/entities-page.tsx';
import EntityPage from './pages/entity-page.tsx';
import LoginPage from './pages/login-page.tsx';
import NodesPage from './pages/nodes-page.tsx';
import NotFoundPage from './pages/not-found-page.tsx';
import OverviewPage from './pages/overview-page.tsx';
import ProfilePage from './pages/profile-page.tsx';
import ProfilesPage from './pages/profiles-page.tsx';
import ReportPage from './pages/report-page.tsx';
import { AuditsPage, ProbesPage, ScansPage } from './pages/reports-page.tsx';
import SetupPage from './pages/setup-page.tsx';
import { RequireSession, SessionProvider } from './session/session.tsx';
import './styles.css';

const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  { path: '/setup', element: <SetupPage /> },
  {
    element: (
      <RequireSession>
        <AppShell />
      </RequireSession>
    ),
    children: [
      { index: true, element: <OverviewPage /> },
      { path: 'alerts', element: <AlertsPage /> },
      { path: 'entities', element: <EntitiesPage /> },
      { path: 'entities/:agentId/:entityId', element: <EntityPage /> },
      { path: 'profiles', element: <ProfilesPage /> },
      { path: 'profiles/:id', element: <ProfilePage /> },
      { path: 'nodes', element: <NodesPage /> },
      { path: 'scans', element: <ScansPage /> },
      { path: 'audits', element: <AuditsPage /> },
      { path: 'probes', element: <ProbesPage /> },
      { path: 'reports/:id', element: <ReportPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <RouterProvider router={router} />
    </SessionProvider>
  </StrictMode>,
);
