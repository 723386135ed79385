/**
 * The alert list: filters (rule, severity, workload, node, profile, entity, time, text) over server_alerts, newest
 * first by when each aggregate was last seen, one bounded page at a time with a cursor for the next.
 */
import { severities, severityRank } from '../../core/severity.ts';
import type { AlertQuery, AlertView } from '../schemas/console-schemas.ts';
import type { ServerStore } from '../server-store.ts';
import { decodeAlertCursor, encodeAlertCursor } from './alert-cursor.ts';
import { toAlertView } from './alert-view.ts';
import { anyColumnContains } from './like-pattern.ts';

export type AlertFilter = Omit<Partial<AlertQuery>, 'limit'> & { limit: number };

export interface AlertPage {
  alerts: AlertView[];
  nextCursor: string | null;
}

export async function listAlerts(db: ServerStore, filter: AlertFilter): Promise<AlertPage> {
  let select = db
    .selectFrom('server_alerts')
    .leftJoin('server_agents', 'server_agents.id', 'server_alerts.agent_id')
    .selectAll('server_alerts')
    .select('server_agents.node_name');
  if (filter.rule) select = select.where('server_alerts.rule', '=', filter.rule);
  if (filter.severity) select = select.where('server_alerts.severity', '=', filter.severity);
  if (filter.minSeverity) {
    const threshold = severityRank(filter.minSeverity);
    select = select.where('server_alerts.severity', 'in', severities.filter((severity) => severityRank(severity) >= threshold));
  }
  if (filter.workload) select = select.where('server_alerts.workload', '=', filter.workload);
  if (filter.node) select = select.where('server_alerts.agent_id', '=', filter.node);
  if (filter.profile) select = select.where('server_alerts.profile_id', '=', filter.profile);
  if (filter.entity) select = select.where('server_alerts.entity_id', '=', filter.entity);
  if (filter.since) select = select.where('server_alerts.last_at', '>=', Date.parse(filter.since));
  if (filter.until) select = select.where('server_alerts.last_at', '<', Date.parse(filter.until));
  if (filter.text) select = select.where(anyColumnContains(['server_alerts.message', 'server_alerts.entity_name', 'server_alerts.workload', 'server_alerts.rule'], filter.text));
  if (filter.cursor) {
    const after = decodeAlertCursor(filter.cursor);
    select = select.where((eb) =>
      eb.or([eb('server_alerts.last_at', '<', after.lastAt), eb.and([eb('server_alerts.last_at', '=', after.lastAt), eb('server_alerts.id', '<', after.id)])]),
    );
  }
  // One row more than asked says whether another page follows.
  const rows = await select.orderBy('server_alerts.last_at', 'desc').orderBy('server_alerts.id', 'desc').limit(filter.limit + 1).execute();
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    alerts: page.map(toAlertView),
    nextCursor: rows.length > filter.limit && last ? encodeAlertCursor({ lastAt: Number(last.last_at), id: last.id }) : null,
  };
}
