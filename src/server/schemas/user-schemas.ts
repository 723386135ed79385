/** Console users, managed by admins. */
import { z } from 'zod';
import { userRoles } from '../auth/principal.ts';
import { password, username } from './common-schemas.ts';
import { userView } from './auth-schemas.ts';

export const createUserRequest = z.strictObject({ username, password, role: z.enum(userRoles) });
export const userListResponse = z.object({ users: z.array(userView) });
export { userView };
