/** Scan, audit and probe reports the tools sent, newest first; each opens to its files or checks. */
import { Link } from 'react-router';
import type { ReportKind, ReportList } from '../api/types.ts';
import { CommandBlock } from '../components/code.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';

const kinds: Record<ReportKind, { title: string; subtitle: string; empty: string; command: string }> = {
  scan: {
    title: 'Image scans',
    subtitle: 'Images checked for miners before they run: every flagged file with its evidence.',
    empty: 'No image scans yet',
    command: 'nomine scan docker://registry.example/app:1.0 --server URL --token TOKEN',
  },
  audit: {
    title: 'Audits',
    subtitle: 'Docker and Kubernetes configuration against the CIS benchmarks, check by check.',
    empty: 'No audits yet',
    command: 'nomine audit docker --server URL --token TOKEN',
  },
  probe: {
    title: 'Probes',
    subtitle: 'Your own endpoints probed for open Docker, registry, Kubernetes and etcd APIs.',
    empty: 'No probes yet',
    command: 'nomine probe 10.0.0.0/24 --server URL --token TOKEN',
  },
};

function ReportsPage({ kind }: { kind: ReportKind }) {
  const { data, error } = useResource<ReportList>('/api/reports', { kind, limit: 100 }, { pollMs: 30_000 });
  const text = kinds[kind];
  return (
    <>
      <PageHeader title={text.title} subtitle={text.subtitle} />
      <ErrorBanner error={error} />
      <Panel>
        {!data ? (
          <Loading />
        ) : data.reports.length === 0 ? (
          <EmptyState title={text.empty} icon="⌕">
            <p>Run the tool with an ingest token (an admin creates one under API tokens) and it sends its report here:</p>
            <CommandBlock command={text.command.replace('URL', window.location.origin)} />
          </EmptyState>
        ) : (
          <table className="table table-hover" data-testid="report-table">
            <thead>
              <tr>
                <th>Report</th>
                <th>Tool</th>
                <th>Generated</th>
                <th>Received</th>
              </tr>
            </thead>
            <tbody>
              {data.reports.map((report) => (
                <tr key={report.id}>
                  <td>
                    <Link to={`/reports/${report.id}`} className="strong">
                      {text.title.replace(/s$/, '')} {report.id.slice(0, 8)}
                    </Link>
                  </td>
                  <td className="code small">
                    {report.tool.name} {report.tool.version}
                  </td>
                  <td className="muted">
                    <TimeAgo at={report.generatedAt} />
                  </td>
                  <td className="muted">
                    <TimeAgo at={report.receivedAt} />
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

export function ScansPage() {
  return <ReportsPage kind="scan" />;
}
export function AuditsPage() {
  return <ReportsPage kind="audit" />;
}
export function ProbesPage() {
  return <ReportsPage kind="probe" />;
}
