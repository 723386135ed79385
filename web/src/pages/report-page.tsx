/**
 * One report: a scan as its flagged files (each opens to the evidence that flagged it), an audit or a probe as
 * its checks (each opens to its results per container, host or endpoint, with evidence and the fix).
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { CheckView, ReportView, ScanFileView } from '../api/types.ts';
import { SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { ErrorBanner, Loading, PageHeader, Panel, Stat } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { bytes, shortDigest } from '../format.ts';
import { useResource } from '../hooks/use-resource.ts';

const listOf = { scan: ['/scans', 'Image scans'], audit: ['/audits', 'Audits'], probe: ['/probes', 'Probes'] } as const;

export default function ReportPage() {
  const { id = '' } = useParams();
  const { data, error } = useResource<ReportView>(`/api/reports/${encodeURIComponent(id)}/view`);
  if (!data) return error ? <ErrorBanner error={error} /> : <Loading />;
  const [listPath, listTitle] = listOf[data.kind];
  return (
    <>
      <div className="breadcrumbs">
        <Link to={listPath}>{listTitle}</Link> / {id.slice(0, 8)}
      </div>
      <PageHeader
        title={`${listTitle.replace(/s$/, '')} report`}
        subtitle={
          <>
            {data.tool.name} {data.tool.version} · generated <TimeAgo at={data.generatedAt} /> · received <TimeAgo at={data.receivedAt} />
          </>
        }
      />
      {data.problems.length > 0 && (
        <div className="banner banner-warn" role="status">
          Parts of this report could not be read: {data.problems.join('; ')}
        </div>
      )}
      {data.scan && <ScanReport scan={data.scan} />}
      {data.checks && <ChecksReport kind={data.kind} checks={data.checks} />}
    </>
  );
}

function ScanReport({ scan }: { scan: NonNullable<ReportView['scan']> }) {
  const malicious = scan.files.filter((file) => file.verdict === 'malicious').length;
  return (
    <div className="stack">
      <div className="stats">
        <Stat label="Images" value={scan.images.length} />
        <Stat label="Flagged files" value={scan.files.length} tone={scan.files.length > 0 ? 'bad' : 'good'} detail={`${malicious} malicious`} />
        <Stat label="Image metadata findings" value={scan.metadata.length} tone={scan.metadata.length > 0 ? 'warn' : undefined} />
        <Stat label="Errors" value={scan.images.filter((image) => image.error).length} />
      </div>
      <Panel title="Images">
        <table className="table">
          <thead>
            <tr>
              <th>Image</th>
              <th>Digest</th>
              <th className="right">Layers</th>
              <th className="right">Findings</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {scan.images.map((image) => (
              <tr key={image.image}>
                <td className="code">{image.image}</td>
                <td className="code small">{shortDigest(image.digest)}</td>
                <td className="right">{image.layers}</td>
                <td className="right">{image.findings}</td>
                <td>{image.error ? <span className="badge status-error" title={image.error}>incomplete: {image.error}</span> : <StatusBadge status={image.findings > 0 ? 'fail' : 'pass'} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title="Flagged files">
        {scan.files.length === 0 ? (
          <EmptyState title="No flagged files" icon="✓">
            No file in these images matched a miner signature or heuristic.
          </EmptyState>
        ) : (
          <div className="cards">
            {scan.files.map((file) => (
              <FileCard key={`${file.image}|${file.layer}|${file.path}`} file={file} />
            ))}
          </div>
        )}
      </Panel>
      {scan.metadata.length > 0 && (
        <Panel title="Image metadata">
          <div className="cards">
            {scan.metadata.map((finding, index) => (
              <div className="card" key={index}>
                <div className="card-head">
                  <SeverityBadge severity={finding.severity} /> <span className="code">{finding.image}</span> <span className="muted">{finding.verdict}</span>
                </div>
                <ul className="evidence">
                  {finding.evidence.map((item, at) => (
                    <li key={at}>{item.summary}</li>
                  ))}
                </ul>
              </div>
            ))}
          </div>
        </Panel>
      )}
    </div>
  );
}

function FileCard({ file }: { file: ScanFileView }) {
  const [open, setOpen] = useState(true);
  return (
    <div className="card" data-testid="scan-file">
      <button type="button" className="card-head card-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        <SeverityBadge severity={file.severity} />
        <span className="code strong">{file.path}</span>
        <span className={`verdict verdict-${file.verdict}`}>{file.verdict}</span>
        {!file.presentInFinalImage && <span className="badge status-warn" title={file.removedBy ?? ''}>deleted by a later layer</span>}
        <span className="list-end muted small">{file.evidence.length} evidence</span>
      </button>
      <div className="muted small card-meta">
        {file.image} · layer {file.layerIndex ?? '?'} <span className="code">{shortDigest(file.layer)}</span> · {bytes(file.size)} · sha256 <span className="code">{shortDigest(file.sha256)}</span>
      </div>
      {open && (
        <table className="table evidence-table">
          <thead>
            <tr>
              <th>Evidence</th>
              <th>Rule</th>
              <th>Strength</th>
            </tr>
          </thead>
          <tbody>
            {file.evidence.map((item, index) => (
              <tr key={index}>
                <td>{item.summary}</td>
                <td className="code small">{item.rule ?? '—'}</td>
                <td>
                  <span className={`strength strength-${item.strength ?? 'unknown'}`}>{item.strength ?? '—'}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const statusFilters = ['problems', 'all'] as const;

function ChecksReport({ kind, checks }: { kind: ReportView['kind']; checks: NonNullable<ReportView['checks']> }) {
  const [show, setShow] = useState<(typeof statusFilters)[number]>('problems');
  const visible = show === 'all' ? checks.checks : checks.checks.filter((check) => check.status === 'fail' || check.status === 'warn' || check.status === 'error');
  const summary = checks.summary;
  return (
    <div className="stack">
      <div className="stats">
        {kind === 'audit' ? (
          <>
            <Stat label="Score" value={summary.score ?? '—'} tone={(summary.score ?? 100) >= 90 ? 'good' : (summary.score ?? 100) >= 70 ? 'warn' : 'bad'} detail={checks.scope ?? undefined} />
            <Stat label="Failing" value={summary.fail ?? 0} tone={(summary.fail ?? 0) > 0 ? 'bad' : 'good'} />
            <Stat label="Warnings" value={summary.warn ?? 0} tone={(summary.warn ?? 0) > 0 ? 'warn' : undefined} />
            <Stat label="Passing" value={summary.pass ?? 0} />
          </>
        ) : (
          <>
            <Stat label="Endpoints" value={summary.endpoints ?? checks.endpoints.length} detail={`${summary.open ?? 0} open`} />
            <Stat label="Failing checks" value={summary.fail ?? 0} tone={(summary.fail ?? 0) > 0 ? 'bad' : 'good'} />
            <Stat label="Passing checks" value={summary.pass ?? 0} />
            <Stat label="Errors" value={summary.error ?? 0} />
          </>
        )}
      </div>
      <Panel
        title="Checks"
        actions={
          <div className="segmented" role="group" aria-label="Show">
            <button type="button" className={show === 'problems' ? 'active' : ''} onClick={() => setShow('problems')}>
              Problems
            </button>
            <button type="button" className={show === 'all' ? 'active' : ''} onClick={() => setShow('all')}>
              All {checks.checks.length}
            </button>
          </div>
        }
      >
        {visible.length === 0 ? (
          <EmptyState title={checks.checks.length === 0 ? 'No checks in this report' : 'No failing checks'} icon="✓" />
        ) : (
          <div className="cards">
            {visible.map((check) => (
              <CheckCard key={check.checkId} check={check} />
            ))}
          </div>
        )}
      </Panel>
      {kind === 'probe' && (
        <Panel title="Endpoints">
          <table className="table" data-testid="endpoint-table">
            <thead>
              <tr>
                <th>Endpoint</th>
                <th>State</th>
                <th>Services</th>
                <th>Problems</th>
              </tr>
            </thead>
            <tbody>
              {checks.endpoints.map((endpoint) => (
                <tr key={endpoint.endpoint}>
                  <td className="code">{endpoint.endpoint}</td>
                  <td>
                    <StatusBadge status={endpoint.status} />
                  </td>
                  <td>{endpoint.services.join(', ') || '—'}</td>
                  <td className="small muted">{endpoint.problems.join('; ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
      )}
    </div>
  );
}

function CheckCard({ check }: { check: CheckView }) {
  const [open, setOpen] = useState(check.status === 'fail');
  return (
    <div className="card" data-testid="check" data-check-id={check.checkId}>
      <button type="button" className="card-head card-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        <StatusBadge status={check.status} />
        <SeverityBadge severity={check.severity} />
        <span className="strong">{check.title}</span>
        <span className="list-end muted small">
          {Object.entries(check.counts)
            .map(([status, n]) => `${n} ${status}`)
            .join(' · ')}
        </span>
      </button>
      <div className="muted small card-meta">
        <span className="code">{check.checkId}</span>
        {check.references.length > 0 && <> · {check.references.join(', ')}</>}
      </div>
      {open && (
        <div className="card-body">
          <table className="table">
            <tbody>
              {check.results.map((result, index) => (
                <tr key={index}>
                  <td className="nowrap">
                    <StatusBadge status={result.status} />
                  </td>
                  <td>
                    <div className="strong">{result.subject}</div>
                    {result.detail && <div>{result.detail}</div>}
                    {result.waived && <div className="muted small">waived: {result.waived}</div>}
                    {result.evidence.length > 0 && (
                      <ul className="evidence">
                        {result.evidence.map((item, at) => (
                          <li key={at}>
                            {item.summary}
                            {item.location && <span className="muted code small"> — {item.location}</span>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {check.remediation && (
            <div className="remediation">
              <strong>Fix:</strong> {check.remediation}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
