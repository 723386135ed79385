/**
 * The agent's enrolment with a console: the server's URL, the agent id and the agent's own credential the console
 * issued, kept in $NOMINE_HOME/console.json with mode 0600. `nomine agent enrol` writes it; `nomine agent run`
 * reads it to deliver to the console.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';
import { readStateFile, writeStateFile } from './state-file.ts';

export const consoleEnrolmentSchema = z.object({
  server: z.url({ protocol: /^https?$/ }),
  agentId: z.string().min(1).max(128),
  credential: z.string().min(16).max(256),
  nodeName: z.string().min(1).max(253),
  /** PEM file of the CA that signed the console's certificate, when it is not a public one. */
  caFile: z.string().min(1).optional(),
  enrolledAt: z.string(),
});
export type ConsoleEnrolment = z.infer<typeof consoleEnrolmentSchema>;

export function consoleEnrolmentFile(home: string): string {
  return join(home, 'console.json');
}

export async function readConsoleEnrolment(home: string): Promise<ConsoleEnrolment | undefined> {
  const file = consoleEnrolmentFile(home);
  const value = await readStateFile(file);
  if (value === undefined) return undefined;
  const parsed = consoleEnrolmentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new NomineError('invalid-input', `not a valid enrolment (${issue.path.join('.') || 'document'}: ${issue.message}): enrol again with \`nomine agent enrol --force\``, file);
  }
  return parsed.data;
}

export async function writeConsoleEnrolment(home: string, enrolment: ConsoleEnrolment): Promise<void> {
  await writeStateFile(consoleEnrolmentFile(home), enrolment);
}
