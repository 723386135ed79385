/**
 * A learned profile, readable: what the workload may run, connect to, listen on, write, and which syscalls and
 * how much CPU it uses; each allowance with when it was first learned and on which nodes. Then each node's
 * contribution and what people did to the profile.
 */
import { useState, type ReactNode } from 'react';
import type { AllowanceView, ProfileDetail } from '../api/types.ts';
import { plural, shortDigest } from '../format.ts';
import { TimeAgo } from './time-ago.tsx';

type Tab = 'processes' | 'network' | 'files' | 'syscalls' | 'cpu';

function Nodes({ nodes }: { nodes: { nodeName: string }[] }) {
  if (nodes.length === 0) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {nodes.map((node) => (
        <span className="chip" key={node.nodeName}>
          {node.nodeName}
        </span>
      ))}
    </span>
  );
}

function Source({ source }: { source: string }) {
  return <span className={`source source-${source}`}>{source}</span>;
}

type Learnable = { firstSeen: string | null; source: string; nodes: { nodeName: string }[] };

function Learned({ firstSeen, source, nodes }: Learnable) {
  return (
    <>
      <td className="nowrap">
        <TimeAgo at={firstSeen} /> <Source source={source} />
      </td>
      <td>
        <Nodes nodes={nodes} />
      </td>
    </>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <p className="muted tab-empty">{children}</p>;
}

/** One kind of allowance as a table: the kind's own columns, then when and on which nodes each entry was learned. */
function AllowanceTable<T extends Learnable>({
  testId,
  columns,
  entries,
  empty,
  rowKey,
  children,
}: {
  testId: string;
  columns: string[];
  entries: T[];
  empty: ReactNode;
  rowKey(entry: T): string;
  children(entry: T): ReactNode;
}) {
  if (entries.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column}>{column}</th>
          ))}
          <th>Learned</th>
          <th>Nodes</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={rowKey(entry)}>
            {children(entry)}
            <Learned {...entry} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AllowanceTabs({ allow, learning }: { allow: AllowanceView; learning: boolean }) {
  const [tab, setTab] = useState<Tab>('processes');
  const tabs: { id: Tab; label: string; count: number | undefined }[] = [
    { id: 'processes', label: 'Processes', count: allow.processes.length },
    { id: 'network', label: 'Network', count: allow.egress.length + allow.listen.length },
    { id: 'files', label: 'File writes', count: allow.fileWrites.length },
    { id: 'syscalls', label: 'Syscalls', count: allow.syscalls?.length },
    { id: 'cpu', label: 'CPU', count: undefined },
  ];
  const nothingYet = learning ? 'Nothing learned yet: it is added here as the workload does it.' : 'Nothing allowed: any of it alerts.';
  return (
    <div className="tabs">
      <div className="tab-list" role="tablist">
        {tabs.map((entry) => (
          <button key={entry.id} type="button" role="tab" aria-selected={tab === entry.id} className={tab === entry.id ? 'active' : ''} onClick={() => setTab(entry.id)}>
            {entry.label}
            {entry.count !== undefined && <span className="tab-count">{entry.count}</span>}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'processes' && (
          <AllowanceTable testId="allow-processes" columns={['Executable', 'Started by', 'SHA-256']} entries={allow.processes} empty={nothingYet} rowKey={(entry) => entry.exe}>
            {(entry) => (
              <>
                <td className="code">{entry.exe}</td>
                <td className="small code">{entry.parents.join(', ') || '—'}</td>
                <td className="small code" title={entry.sha256.join('\n')}>
                  {entry.sha256.map(shortDigest).join(', ') || '—'}
                </td>
              </>
            )}
          </AllowanceTable>
        )}
        {tab === 'network' && (
          <div className="stack">
            <h3 className="table-title">Outgoing connections</h3>
            <AllowanceTable
              testId="allow-egress"
              columns={['Address', 'Port', 'Protocol']}
              entries={allow.egress}
              empty={learning ? 'No outgoing connections learned yet.' : 'No outgoing connection is allowed.'}
              rowKey={(entry) => `${entry.address}:${entry.port}/${entry.protocol}`}
            >
              {(entry) => (
                <>
                  <td className="code">{entry.address}</td>
                  <td>{entry.port}</td>
                  <td>{entry.protocol}</td>
                </>
              )}
            </AllowanceTable>
            <h3 className="table-title">Listening ports</h3>
            <AllowanceTable
              testId="allow-listen"
              columns={['Port', 'Protocol']}
              entries={allow.listen}
              empty={learning ? 'No listening ports learned yet.' : 'No listening port is allowed.'}
              rowKey={(entry) => `${entry.port}/${entry.protocol}`}
            >
              {(entry) => (
                <>
                  <td>{entry.port}</td>
                  <td>{entry.protocol}</td>
                </>
              )}
            </AllowanceTable>
          </div>
        )}
        {tab === 'files' && (
          <AllowanceTable testId="allow-files" columns={['Path']} entries={allow.fileWrites} empty={nothingYet} rowKey={(entry) => entry.pattern}>
            {(entry) => <td className="code">{entry.pattern}</td>}
          </AllowanceTable>
        )}
        {tab === 'syscalls' &&
          (allow.syscalls === null ? (
            <Empty>The nodes’ sensors report no syscalls (the eBPF sensor does; the /proc sensor cannot).</Empty>
          ) : allow.syscalls.length === 0 ? (
            <Empty>{nothingYet}</Empty>
          ) : (
            <div className="chips syscalls" data-testid="allow-syscalls">
              {allow.syscalls.map((entry) => (
                <span className="chip" key={entry.name} title={`seen on ${entry.nodes.map((node) => node.nodeName).join(', ') || 'no node'}`}>
                  {entry.name}
                </span>
              ))}
            </div>
          ))}
        {tab === 'cpu' && <CpuEnvelope cpu={allow.cpu} />}
      </div>
    </div>
  );
}

function CpuEnvelope({ cpu }: { cpu: AllowanceView['cpu'] }) {
  if (cpu.samples === 0) return <Empty>No CPU samples yet.</Empty>;
  const max = Math.max(...cpu.histogram, 1);
  return (
    <div className="stack">
      <p>
        The envelope is <strong>{cpu.quantileCores.toFixed(2)} cores</strong> (p99 of {plural(cpu.samples, 'sample')}); using more alerts.
      </p>
      <div className="histogram" role="img" aria-label="CPU usage histogram">
        {cpu.histogram.map((value, index) => (
          <div key={index} className="histogram-bar" style={{ height: `${(value / max) * 100}%` }} title={`${(index * cpu.bucketCores).toFixed(2)}–${((index + 1) * cpu.bucketCores).toFixed(2)} cores: ${value}`} />
        ))}
      </div>
      {cpu.nodes.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Node</th>
              <th className="right">p99 cores</th>
              <th className="right">Samples</th>
            </tr>
          </thead>
          <tbody>
            {cpu.nodes.map((node) => (
              <tr key={node.agentId}>
                <td>{node.nodeName}</td>
                <td className="right">{node.quantileCores.toFixed(2)}</td>
                <td className="right">{node.samples}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function Contributions({ profile }: { profile: ProfileDetail }) {
  if (profile.contributions.length === 0) {
    return <p className="muted">{profile.relearnRequestedAt ? 'Relearning: no node has sent what it learned since.' : 'No node has sent this profile yet.'}</p>;
  }
  return (
    <table className="table" data-testid="contributions">
      <thead>
        <tr>
          <th>Node</th>
          <th>Phase</th>
          <th className="right">Processes</th>
          <th className="right">Connections</th>
          <th className="right">Ports</th>
          <th className="right">File paths</th>
          <th>Received</th>
        </tr>
      </thead>
      <tbody>
        {profile.contributions.map((contribution) => (
          <tr key={contribution.agentId}>
            <td className="nowrap">{contribution.nodeName}</td>
            <td>{contribution.phase ?? '—'}</td>
            <td className="right">{contribution.counts.processes}</td>
            <td className="right">{contribution.counts.egress}</td>
            <td className="right">{contribution.counts.listen}</td>
            <td className="right">{contribution.counts.fileWrites}</td>
            <td className="muted">
              <TimeAgo at={contribution.receivedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const actionLabels: Record<string, string> = { 'profile.approve': 'approved', 'profile.relearn': 'asked to relearn', 'profile.set-mode': 'set the mode' };

export function History({ profile }: { profile: ProfileDetail }) {
  if (profile.history.length === 0) return <p className="muted">Nobody has changed this profile from the console.</p>;
  return (
    <ul className="timeline" data-testid="history">
      {profile.history.map((entry, index) => (
        <li key={`${entry.at}-${index}`}>
          <strong>{entry.actorName}</strong> {actionLabels[entry.action] ?? entry.action}
          {entry.action === 'profile.set-mode' && entry.detail && (
            <>
              {' '}
              from <span className={`badge mode-${String(entry.detail.from)}`}>{String(entry.detail.from)}</span> to{' '}
              <span className={`badge mode-${String(entry.detail.to)}`}>{String(entry.detail.to)}</span>
            </>
          )}{' '}
          <span className="muted">
            <TimeAgo at={entry.at} />
          </span>
        </li>
      ))}
    </ul>
  );
}
