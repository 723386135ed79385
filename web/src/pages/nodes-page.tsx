/** Enrolled nodes: online or not, what they run, the agent's version and sensor; how to add one. */
import { Link } from 'react-router';
import type { NodeList } from '../api/types.ts';
import { OnlineDot } from '../components/badges.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { EnrolAgentGuide } from '../components/enrol-agent.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useResource } from '../hooks/use-resource.ts';

export default function NodesPage() {
  const { data, error } = useResource<NodeList>('/api/nodes', {}, { pollMs: 10_000 });
  return (
    <>
      <PageHeader title="Nodes" subtitle="Each node runs one agent, enrolled with a join token." />
      <ErrorBanner error={error} />
      <div className="stack">
        <Panel>
          {!data ? (
            <Loading />
          ) : data.nodes.length === 0 ? (
            <EmptyState title="No nodes enrolled" icon="⬢">
              <EnrolAgentGuide />
            </EmptyState>
          ) : (
            <table className="table" data-testid="node-table">
              <thead>
                <tr>
                  <th>Node</th>
                  <th>State</th>
                  <th className="right">Running</th>
                  <th>Agent</th>
                  <th>Sensor</th>
                  <th>Enrolled</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.nodes.map((node) => (
                  <tr key={node.id}>
                    <td>
                      <Link to={`/entities?node=${encodeURIComponent(node.id)}`} className="strong">
                        {node.name}
                      </Link>
                    </td>
                    <td>{node.revoked ? <span className="badge status-error">revoked</span> : <OnlineDot online={node.online} label={node.online ? 'online' : 'offline'} />}</td>
                    <td className="right">{node.entities}</td>
                    <td className="code small">{node.version}</td>
                    <td className="small">{typeof node.status?.sensor === 'string' ? node.status.sensor : '—'}</td>
                    <td className="muted">
                      <TimeAgo at={node.enrolledAt} />
                    </td>
                    <td className="muted">
                      <TimeAgo at={node.lastSeenAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        {data && data.nodes.length > 0 && (
          <Panel title="Add a node">
            <EnrolAgentGuide />
          </Panel>
        )}
      </div>
    </>
  );
}
