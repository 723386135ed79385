/**
 * The API's types, taken from the server's own zod schemas (type-only imports: nothing of the server is bundled),
 * so the UI and the routes it calls cannot drift apart without the typecheck saying so.
 */
import type { z } from 'zod';
import type { loginResponse, meResponse, setupStatusResponse } from '../../../src/server/schemas/auth-schemas.ts';
import type { createJoinTokenResponse } from '../../../src/server/schemas/agent-schemas.ts';
import type {
  alertListResponse,
  entityDetail,
  entityListResponse,
  nodeListResponse,
  profileActionResponse,
  profileListResponse,
} from '../../../src/server/schemas/console-schemas.ts';
import type { reportListResponse } from '../../../src/server/schemas/report-schemas.ts';

export type {
  AlertView,
  AllowanceView,
  CheckView,
  OverviewResponse,
  ProfileDetail,
  ProfileSummary,
  ReportView,
  ScanFileView,
} from '../../../src/server/schemas/console-schemas.ts';
export type { ReportKind } from '../../../src/server/schemas/report-schemas.ts';
export type { Severity } from '../../../src/core/severity.ts';
export type { EnforcementMode } from '../../../src/profile/profile.ts';

export type Me = z.infer<typeof meResponse>;
export type LoginResponse = z.infer<typeof loginResponse>;
export type SetupStatus = z.infer<typeof setupStatusResponse>;
export type EntityDetail = z.infer<typeof entityDetail>;
export type EntityList = z.infer<typeof entityListResponse>;
export type NodeList = z.infer<typeof nodeListResponse>;
export type AlertList = z.infer<typeof alertListResponse>;
export type ProfileList = z.infer<typeof profileListResponse>;
export type ProfileActionResult = z.infer<typeof profileActionResponse>;
export type ReportList = z.infer<typeof reportListResponse>;
export type JoinTokenCreated = z.infer<typeof createJoinTokenResponse>;
