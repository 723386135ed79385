/** Console users, managed by admins; and a user's own password change. */
import { z } from 'zod';
import { userRoles } from '../auth/principal.ts';
import { password, username } from './common-schemas.ts';
import { userView as accountView } from './auth-schemas.ts';

export const createUserRequest = z.strictObject({ username, password, role: z.enum(userRoles) });

/** A user as admins see them: with whether they are disabled. */
export const userView = accountView.extend({ disabledAt: z.string().nullable().describe('when an admin disabled the user; null while they may log in') });
export const userListResponse = z.object({ users: z.array(userView) });

export const setRoleRequest = z.strictObject({ role: z.enum(userRoles) });

export const resetPasswordRequest = z.strictObject({ password });

export const changeOwnPasswordRequest = z.strictObject({
  currentPassword: password.min(1),
  newPassword: password,
});
