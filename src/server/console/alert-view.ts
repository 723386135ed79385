/**
 * An alert row as the console shows it: the indexed columns plus what only the stored Alert document holds (what
 * was seen, what the profile allows, why the action was taken), read leniently because agents wrote it.
 */
import { isSeverity } from '../../core/severity.ts';
import type { ServerAlertsTable } from '../../store/migrations-server.ts';
import type { AlertView } from '../schemas/console-schemas.ts';
import { isoOf } from './instant.ts';
import { isJsonObject, parseJsonObject } from './json-object.ts';

const maxText = 4_096;

export function toAlertView(row: ServerAlertsTable & { node_name: string | null }): AlertView {
  const document = parseJsonObject(row.document) ?? {};
  const action = isJsonObject(document.action) ? document.action : {};
  return {
    id: row.id,
    agentId: row.agent_id,
    nodeName: row.node_name ?? row.agent_id,
    rule: row.rule,
    severity: isSeverity(row.severity) ? row.severity : 'medium',
    message: row.message,
    entityId: row.entity_id,
    entityName: row.entity_name,
    workload: row.workload,
    profileId: row.profile_id,
    image: row.image,
    mode: row.mode,
    action: { taken: row.action_taken, reason: text(action.reason) },
    seen: text(document.seen),
    allowed: text(document.allowed),
    firstAt: isoOf(row.first_at),
    lastAt: isoOf(row.last_at),
    count: Number(row.count),
  };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, maxText) : '';
}
