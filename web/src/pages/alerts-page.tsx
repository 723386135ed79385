/**
 * Every alert, newest first, filtered by rule, severity, workload, node, time and text (kept in the URL, so a
 * filtered view can be shared). The first page refreshes every few seconds; new alerts appear at the top
 * without a reload. Older pages load on demand.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client.ts';
import type { AlertList, AlertView } from '../api/types.ts';
import { AlertTable } from '../components/alert-table.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { FilterBar } from '../components/filter-bar.tsx';
import { NodeSelect } from '../components/node-select.tsx';
import { ErrorBanner, Loading, PageHeader, Panel } from '../components/page.tsx';
import { ruleLabels } from '../format.ts';
import { useUrlFilters } from '../hooks/use-url-filters.ts';

const alertPollMs = 3_000;
const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
const periods: Record<string, number | undefined> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, all: undefined };

type Filter = { rule: string; minSeverity: string; workload: string; node: string; period: string; text: string };

export default function AlertsPage() {
  const { params, set, clear } = useUrlFilters();
  const filter: Filter = {
    rule: params.get('rule') ?? '',
    minSeverity: params.get('severity') ?? '',
    workload: params.get('workload') ?? '',
    node: params.get('node') ?? '',
    period: params.get('period') ?? 'all',
    text: params.get('q') ?? '',
  };
  const filtered = Object.entries(filter).some(([name, value]) => value !== '' && !(name === 'period' && value === 'all'));

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle={
          <span className="live">
            <span className="live-dot" aria-hidden="true" /> Live: refreshes every {alertPollMs / 1000} s
          </span>
        }
      />
      <FilterBar query={filter.text} onSearch={(text) => set('q', text)} placeholder="message, entity, workload…" searchName="q" onClear={filtered ? clear : undefined}>
          <label>
            Rule
            <select name="rule" value={filter.rule} onChange={(event) => set('rule', event.target.value)}>
              <option value="">Any rule</option>
              {Object.entries(ruleLabels).map(([rule, label]) => (
                <option key={rule} value={rule}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Severity
            <select name="severity" value={filter.minSeverity} onChange={(event) => set('severity', event.target.value)}>
              <option value="">Any severity</option>
              {severities.map((severity) => (
                <option key={severity} value={severity}>
                  {severity === 'info' ? 'info and above' : severity === 'critical' ? 'critical' : `${severity} and above`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Node
            <NodeSelect name="node" value={filter.node} onChange={(node) => set('node', node)} />
          </label>
          <label>
            Time
            <select name="period" value={filter.period} onChange={(event) => set('period', event.target.value === 'all' ? '' : event.target.value)}>
              <option value="15m">Last 15 minutes</option>
              <option value="1h">Last hour</option>
              <option value="24h">Last 24 hours</option>
              <option value="7d">Last 7 days</option>
              <option value="all">Any time</option>
            </select>
          </label>
          <label>
            Workload
            <input key={filter.workload} name="workload" placeholder="exact workload" defaultValue={filter.workload} onBlur={(event) => set('workload', event.target.value.trim())} />
          </label>
      </FilterBar>
      {/* New filters start a new list: the key drops the loaded pages and the alerts already seen. */}
      <AlertResults key={JSON.stringify(filter)} filter={filter} filtered={filtered} />
    </>
  );
}

/** The alerts matching one set of filters: the first page, polled; older pages, loaded on demand. */
function AlertResults({ filter, filtered }: { filter: Filter; filtered: boolean }) {
  const [tick, setTick] = useState(0);
  const [first, setFirst] = useState<AlertList>();
  const [older, setOlder] = useState<{ alerts: AlertView[]; cursor: string | null }>();
  const [error, setError] = useState<Error>();
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const known = useRef<Set<string>>(undefined);

  // `since` moves with time, so it is worked out per request.
  function fetchPage(cursor?: string, signal?: AbortSignal) {
    const { period, ...query } = filter;
    const sinceMs = periods[period];
    const since = sinceMs === undefined ? undefined : new Date(Date.now() - sinceMs).toISOString();
    return api.get<AlertList>('/api/alerts', { ...query, limit: 50, cursor, since }, signal);
  }

  useEffect(() => {
    const controller = new AbortController();
    fetchPage(undefined, controller.signal)
      .then((answer) => {
        const ids = answer.alerts.map((alert) => alert.id);
        if (known.current) {
          const added = ids.filter((id) => !known.current!.has(id));
          if (added.length > 0) {
            setFresh(new Set(added));
            setTimeout(() => setFresh(new Set()), 4_000);
          }
        }
        known.current = new Set([...(known.current ?? []), ...ids]);
        setFirst(answer);
        setError(undefined);
      })
      .catch((failure: Error) => {
        if (failure.name !== 'AbortError') setError(failure);
      });
    return () => controller.abort();
    // The filter is fixed for this component's life (it is the key).
  }, [tick]);

  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((value) => value + 1);
    }, alertPollMs);
    return () => clearInterval(timer);
  }, []);

  const alerts = useMemo(() => {
    const firstIds = new Set(first?.alerts.map((alert) => alert.id));
    return [...(first?.alerts ?? []), ...(older?.alerts ?? []).filter((alert) => !firstIds.has(alert.id))];
  }, [first, older]);
  // Until an older page is loaded, the first page's cursor leads on; after, the last older page's does.
  const cursor = older ? older.cursor : (first?.nextCursor ?? null);

  async function loadMore() {
    if (!cursor) return;
    const answer = await fetchPage(cursor);
    setOlder((current) => ({ alerts: [...(current?.alerts ?? []), ...answer.alerts], cursor: answer.nextCursor }));
  }

  return (
    <>
      <ErrorBanner error={error} />
      <Panel>
        {!first ? (
          <Loading />
        ) : alerts.length === 0 ? (
          filtered ? (
            <EmptyState title="No alerts match these filters" icon="⌕">
              Widen the time range or clear the filters.
            </EmptyState>
          ) : (
            <EmptyState title="No alerts yet" icon="✓">
              Alerts appear here, live, when a workload does something its profile does not allow, or something that is malicious on its face
              (a miner, a mining pool connection). Profiles in <strong>learn</strong> mode do not alert.
            </EmptyState>
          )
        ) : (
          <>
            <AlertTable alerts={alerts} fresh={fresh} />
            {cursor && (
              <div className="more">
                <button type="button" className="button" onClick={() => void loadMore().catch(setError)}>
                  Load older alerts
                </button>
              </div>
            )}
          </>
        )}
      </Panel>
    </>
  );
}
