/** The console's frame: the sidebar with every section, who is logged in, and the page beside it. */
import { NavLink, Outlet, useNavigate } from 'react-router';
import { Brand } from '../components/brand.tsx';
import { useSession } from '../session/session.tsx';

const sections: { title?: string; links: { to: string; label: string; icon: string; end?: boolean }[] }[] = [
  { links: [{ to: '/', label: 'Overview', icon: '◎', end: true }] },
  {
    title: 'Runtime',
    links: [
      { to: '/alerts', label: 'Alerts', icon: '⚑' },
      { to: '/entities', label: 'Entities', icon: '▣' },
      { to: '/profiles', label: 'Profiles', icon: '☰' },
      { to: '/nodes', label: 'Nodes', icon: '⬢' },
    ],
  },
  {
    title: 'Posture',
    links: [
      { to: '/scans', label: 'Image scans', icon: '⌕' },
      { to: '/audits', label: 'Audits', icon: '✓' },
      { to: '/probes', label: 'Probes', icon: '⇄' },
    ],
  },
];

export function AppShell() {
  const session = useSession();
  const navigate = useNavigate();
  return (
    <div className="shell">
      <aside className="sidebar">
        <Brand />
        <nav aria-label="Main">
          {sections.map((section, index) => (
            <div className="nav-section" key={section.title ?? index}>
              {section.title && <div className="nav-title">{section.title}</div>}
              {section.links.map((link) => (
                <NavLink key={link.to} to={link.to} end={link.end ?? false} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
                  <span className="nav-icon" aria-hidden="true">
                    {link.icon}
                  </span>
                  {link.label}
                </NavLink>
              ))}
            </div>
          ))}
        </nav>
        <div className="sidebar-footer">
          <div className="whoami">
            <span className="avatar" aria-hidden="true">
              {session.user?.name.slice(0, 1).toUpperCase()}
            </span>
            <div>
              <div className="whoami-name" data-testid="whoami">
                {session.user?.name}
              </div>
              <div className="whoami-role">{session.user?.role}</div>
            </div>
          </div>
          <button
            type="button"
            className="button button-ghost button-small"
            onClick={() => {
              void session.logout().then(() => navigate('/login'));
            }}
          >
            Log out
          </button>
        </div>
      </aside>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
