/** Every route of the server, as one literal map: registration, the OpenAPI document and the access tests read it. */
import type { ServerRoute } from '../server-route.ts';
import { agentRoutes } from './agent-routes.ts';
import { consoleRoutes } from './console-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { reportRoutes } from './report-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { userRoutes } from './user-routes.ts';

export const serverRoutes = {
  ...healthRoutes,
  ...sessionRoutes,
  ...userRoutes,
  ...tokenRoutes,
  ...reportRoutes,
  ...agentRoutes,
  ...consoleRoutes,
} satisfies Record<string, ServerRoute>;

export type ServerRouteId = keyof typeof serverRoutes;
