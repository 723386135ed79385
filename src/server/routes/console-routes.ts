/** What the web UI reads and does: overview, entities, profiles (approve, relearn, mode), alerts, reports. */
import type { ServerRoute } from '../server-route.ts';

export const consoleRoutes = {} satisfies Record<string, ServerRoute>;
