/**
 * Alerts as a table a person can scan: severity, what happened (the alert's own sentence), where, what was done
 * and when; a row opens to what was seen and what the profile allows. New rows are marked for a few seconds.
 */
import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import type { AlertView } from '../api/types.ts';
import { ruleLabel } from '../format.ts';
import { SeverityBadge } from './badges.tsx';
import { TimeAgo } from './time-ago.tsx';

export function AlertTable({ alerts, fresh = new Set<string>(), compact = false }: { alerts: AlertView[]; fresh?: Set<string>; compact?: boolean }) {
  const [open, setOpen] = useState<string>();
  return (
    <table className="table table-hover" data-testid="alert-table">
      <thead>
        <tr>
          <th>Severity</th>
          <th>Alert</th>
          {!compact && <th>Where</th>}
          <th>Action</th>
          <th className="right">Count</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((alert) => (
          <Fragment key={alert.id}>
            <tr
              className={`clickable${fresh.has(alert.id) ? ' fresh' : ''}${open === alert.id ? ' open' : ''}`}
              onClick={() => setOpen(open === alert.id ? undefined : alert.id)}
              data-alert-id={alert.id}
            >
              <td className="nowrap">
                <SeverityBadge severity={alert.severity} />
              </td>
              <td>
                <div className="alert-rule">{ruleLabel(alert.rule)}</div>
                <div className="muted small">{alert.message}</div>
              </td>
              {!compact && (
                <td>
                  <Link to={`/entities/${encodeURIComponent(alert.agentId)}/${encodeURIComponent(alert.entityId)}`} onClick={(event) => event.stopPropagation()}>
                    {alert.entityName}
                  </Link>
                  <div className="muted small">
                    {alert.nodeName} · {alert.workload}
                  </div>
                </td>
              )}
              <td>
                <span className={`action action-${alert.action.taken}`}>{alert.action.taken}</span>
              </td>
              <td className="right">{alert.count}</td>
              <td className="nowrap muted">
                <TimeAgo at={alert.lastAt} />
              </td>
            </tr>
            {open === alert.id && (
              <tr className="detail-row">
                <td colSpan={compact ? 5 : 6}>
                  <dl className="details">
                    <dt>Seen</dt>
                    <dd className="code">{alert.seen || '—'}</dd>
                    <dt>Profile allows</dt>
                    <dd>{alert.allowed || '—'}</dd>
                    <dt>Action</dt>
                    <dd>
                      {alert.action.taken}
                      {alert.action.reason && <span className="muted"> — {alert.action.reason}</span>}
                    </dd>
                    <dt>Mode</dt>
                    <dd>{alert.mode}</dd>
                    <dt>First seen</dt>
                    <dd>
                      <TimeAgo at={alert.firstAt} />
                    </dd>
                    {alert.profileId && (
                      <>
                        <dt>Profile</dt>
                        <dd>
                          <Link to={`/profiles/${encodeURIComponent(alert.profileId)}`}>{alert.profileId}</Link>
                        </dd>
                      </>
                    )}
                  </dl>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
