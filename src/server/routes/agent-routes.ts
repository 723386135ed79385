/** Agents: enrolment with a join token, batch delivery (entities, event summaries, profiles, alerts) and profile sync. */
import type { ServerRoute } from '../server-route.ts';

export const agentRoutes = {} satisfies Record<string, ServerRoute>;
