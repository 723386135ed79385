/** The front page: is the fleet healthy, what alerted, what do the latest scans, audits and probes say. */
import { Suspense, lazy, useState } from 'react';
import { Link } from 'react-router';
import type { OverviewResponse, Severity } from '../api/types.ts';
import { ModeBadge, OnlineDot, SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { EnrolAgentGuide } from '../components/enrol-agent.tsx';
import { ErrorBanner, Loading, PageHeader, Panel, Stat } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { count, ruleLabel } from '../format.ts';
import { useResource } from '../hooks/use-resource.ts';

const AlertsChart = lazy(() => import('../charts/alerts-chart.tsx'));
const ranges = ['1h', '24h', '7d'] as const;
const modes = ['learn', 'alert', 'prevent', 'stop', 'none'] as const;

export default function OverviewPage() {
  const [range, setRange] = useState<(typeof ranges)[number]>('24h');
  const { data, error } = useResource<OverviewResponse>('/api/overview', { range }, { pollMs: 10_000 });
  return (
    <>
      <PageHeader title="Overview" subtitle={data ? <>Updated <TimeAgo at={data.generatedAt} /></> : undefined} />
      <ErrorBanner error={error} />
      {!data ? <Loading /> : <Overview data={data} range={range} setRange={setRange} />}
    </>
  );
}

function Overview({ data, range, setRange }: { data: OverviewResponse; range: string; setRange: (range: (typeof ranges)[number]) => void }) {
  const critical = data.alerts.bySeverity.critical + data.alerts.bySeverity.high;
  return (
    <div className="stack">
      <div className="stats">
        <Stat label="Nodes online" value={`${data.nodes.online} / ${data.nodes.total}`} tone={data.nodes.total > 0 && data.nodes.online < data.nodes.total ? 'warn' : undefined} detail={<Link to="/nodes">All nodes</Link>} />
        <Stat label="Entities running" value={count(data.entities.total)} detail={<Link to="/entities">All entities</Link>} />
        <Stat label="Profiles enforcing" value={`${data.profiles.enforcing} / ${data.profiles.total}`} detail={`${data.profiles.learning} still learning`} />
        <Stat label={`Alerts, last ${range}`} value={count(data.alerts.total)} tone={critical > 0 ? 'bad' : data.alerts.total > 0 ? 'warn' : 'good'} detail={critical > 0 ? `${critical} high or critical` : <Link to="/alerts">Alert list</Link>} />
      </div>

      {data.nodes.total === 0 && (
        <Panel title="Enrol your first node">
          <p className="muted">No agent has enrolled yet. Nodes, their containers, learned profiles and alerts appear here once one does.</p>
          <EnrolAgentGuide />
        </Panel>
      )}

      <div className="grid-2">
        <Panel
          title="Alerts over time"
          className="span-2"
          actions={
            <div className="segmented" role="group" aria-label="Time range">
              {ranges.map((value) => (
                <button key={value} type="button" className={value === range ? 'active' : ''} onClick={() => setRange(value)}>
                  {value}
                </button>
              ))}
            </div>
          }
        >
          {data.alerts.total === 0 ? (
            <EmptyState title="No alerts in this period" icon="✓">
              Workloads did nothing their profiles do not allow. Alerts appear here as agents report them.
            </EmptyState>
          ) : (
            <Suspense fallback={<div className="chart chart-placeholder" />}>
              <AlertsChart alerts={data.alerts} />
            </Suspense>
          )}
          <div className="legend">
            {(['critical', 'high', 'medium', 'low', 'info'] as Severity[]).map((severity) => (
              <span key={severity}>
                <SeverityBadge severity={severity} /> {count(data.alerts.bySeverity[severity])}
              </span>
            ))}
          </div>
        </Panel>

        <Panel title="Entities by mode">
          <ModeBar byMode={data.entities.byMode} total={data.entities.total} />
        </Panel>

        <Panel title="Nodes" actions={<Link to="/nodes">All</Link>}>
          {data.nodes.list.length === 0 ? (
            <p className="muted">None enrolled yet.</p>
          ) : (
            <ul className="list">
              {data.nodes.list.map((node) => (
                <li key={node.id}>
                  <OnlineDot online={node.online} />
                  <Link to={`/entities?node=${encodeURIComponent(node.id)}`}>{node.name}</Link>
                  <span className="muted">{node.entities} running</span>
                  <span className="list-end muted">
                    <TimeAgo at={node.lastSeenAt} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Panel>

        <Panel title={`Top rules, last ${range}`}>
          <Ranked entries={data.topRules} label={ruleLabel} link={(key) => `/alerts?rule=${encodeURIComponent(key)}`} />
        </Panel>

        <Panel title={`Top workloads, last ${range}`}>
          <Ranked entries={data.topWorkloads} label={(key) => key} link={(key) => `/alerts?workload=${encodeURIComponent(key)}`} />
        </Panel>

        <Panel title="Latest alerts" className="span-2" actions={<Link to="/alerts">All alerts</Link>}>
          {data.latestAlerts.length === 0 ? (
            <p className="muted">No alerts yet.</p>
          ) : (
            <table className="table">
              <tbody>
                {data.latestAlerts.map((alert) => (
                  <tr key={alert.id}>
                    <td className="nowrap">
                      <SeverityBadge severity={alert.severity} />
                    </td>
                    <td>
                      <div>{alert.message}</div>
                      <div className="muted small">
                        {ruleLabel(alert.rule)} · {alert.nodeName} · action: {alert.action.taken}
                      </div>
                    </td>
                    <td className="nowrap muted">
                      <TimeAgo at={alert.lastAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel title="Latest image scan" actions={<Link to="/scans">All scans</Link>}>
          {!data.reports.scan ? (
            <p className="muted">
              No scans yet. Send one with <code className="code">nomine scan IMAGE --server URL --token TOKEN</code>.
            </p>
          ) : data.reports.scan.totalFindings === 0 ? (
            <p>
              <StatusBadge status="pass" /> {data.reports.scan.images} image(s), nothing flagged.
            </p>
          ) : (
            <ul className="list">
              {data.reports.scan.findings.map((finding) => (
                <li key={`${finding.image}${finding.path}`}>
                  <SeverityBadge severity={finding.severity} />
                  <Link to={`/reports/${finding.reportId}`} className="truncate code">
                    {finding.path}
                  </Link>
                  <span className="list-end muted truncate">{finding.image}</span>
                </li>
              ))}
            </ul>
          )}
        </Panel>

        <Panel title="Latest audit and probe">
          <ul className="list">
            <li>
              <span className="list-label">Audit</span>
              {data.reports.audit ? (
                <>
                  <Link to={`/reports/${data.reports.audit.id}`}>
                    {data.reports.audit.scope ?? 'audit'}: {data.reports.audit.fail} failing, {data.reports.audit.warn} warnings
                  </Link>
                  {data.reports.audit.score !== null && <span className="list-end muted">score {data.reports.audit.score}</span>}
                </>
              ) : (
                <span className="muted">none yet: nomine audit docker --server URL --token TOKEN</span>
              )}
            </li>
            <li>
              <span className="list-label">Probe</span>
              {data.reports.probe ? (
                <Link to={`/reports/${data.reports.probe.id}`}>
                  {data.reports.probe.endpoints} endpoints: {data.reports.probe.fail} failing checks
                </Link>
              ) : (
                <span className="muted">none yet: nomine probe HOSTS --server URL --token TOKEN</span>
              )}
            </li>
          </ul>
        </Panel>
      </div>
    </div>
  );
}

function ModeBar({ byMode, total }: { byMode: OverviewResponse['entities']['byMode']; total: number }) {
  if (total === 0) return <p className="muted">No entities running.</p>;
  return (
    <div>
      <div className="mode-bar" role="img" aria-label="Entities by mode">
        {modes
          .filter((mode) => byMode[mode] > 0)
          .map((mode) => (
            <span key={mode} className={`mode-bar-part mode-bg-${mode}`} style={{ flexGrow: byMode[mode] }} title={`${mode}: ${byMode[mode]}`} />
          ))}
      </div>
      <ul className="list">
        {modes.map((mode) => (
          <li key={mode}>
            <ModeBadge mode={mode === 'none' ? null : mode} />
            <Link to={`/entities?mode=${mode}`}>{count(byMode[mode])}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Ranked({ entries, label, link }: { entries: OverviewResponse['topRules']; label: (key: string) => string; link: (key: string) => string }) {
  if (entries.length === 0) return <p className="muted">Nothing alerted in this period.</p>;
  const max = Math.max(...entries.map((entry) => entry.alerts));
  return (
    <ul className="ranked">
      {entries.map((entry) => (
        <li key={entry.key}>
          <div className="ranked-row">
            <SeverityBadge severity={entry.worst} />
            <Link to={link(entry.key)} className="truncate">
              {label(entry.key)}
            </Link>
            <span className="list-end muted" title={`${entry.occurrences} occurrences`}>
              {count(entry.alerts)}
            </span>
          </div>
          <div className="ranked-bar" style={{ width: `${(entry.alerts / max) * 100}%` }} />
        </li>
      ))}
    </ul>
  );
}
