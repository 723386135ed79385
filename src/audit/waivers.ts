/**
 * Waivers: a team's recorded decision that a failing check is accepted for an entity, with a reason and an
 * optional expiry. A waived result keeps its status and evidence and says why it is waived; an expired waiver
 * no longer applies and the result says so, so acceptances are revisited rather than forgotten.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';

const waiverSchema = z
  .object({
    /** A check id, or a prefix ending in `*` (`docker.daemon.*`). */
    check: z.string().min(1),
    /** An entity name, or a glob with `*` (`nomine-ci-*`, `deploy/*.yaml*`); all entities when absent. */
    entity: z.string().min(1).optional(),
    reason: z.string().min(1),
    /** YYYY-MM-DD; the waiver applies through the end of that day (UTC). */
    expires: z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.date()]).optional(),
  })
  .strict();

const waiverFileSchema = z.object({ waivers: z.array(waiverSchema) }).strict();

export interface Waiver {
  check: string;
  entity?: string;
  reason: string;
  /** Milliseconds since the epoch at which the waiver stops applying. */
  expiresAt?: number;
  expires?: string;
}

export type WaiverDecision = { waived: true; reason: string; expires?: string } | { waived: false; expired?: { reason: string; expires: string } };

export function parseWaivers(text: string, file: string): Waiver[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new NomineError('invalid-input', `waiver file is not valid YAML: ${(error as Error).message}`, file, { cause: error });
  }
  const parsed = waiverFileSchema.safeParse(data);
  if (!parsed.success) throw new NomineError('invalid-input', `invalid waiver file: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, file);
  return parsed.data.waivers.map((waiver) => {
    const expires = waiver.expires instanceof Date ? waiver.expires.toISOString().slice(0, 10) : waiver.expires;
    const expiresAt = expires ? Date.parse(`${expires}T00:00:00Z`) + 24 * 3600 * 1000 : undefined;
    return { check: waiver.check, reason: waiver.reason, ...(waiver.entity ? { entity: waiver.entity } : {}), ...(expires ? { expires, expiresAt: expiresAt as number } : {}) };
  });
}

export async function loadWaivers(file: string): Promise<Waiver[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new NomineError('not-found', `cannot read the waiver file: ${(error as Error).message}`, file, { cause: error });
  }
  return parseWaivers(text, file);
}

function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

/** The first waiver matching the check and entity decides; `now` is passed in so tests run on a fixed clock. */
export function decideWaiver(waivers: readonly Waiver[], checkId: string, entityName: string, now: number): WaiverDecision {
  let expired: { reason: string; expires: string } | undefined;
  for (const waiver of waivers) {
    if (!globMatches(waiver.check, checkId)) continue;
    if (waiver.entity !== undefined && !globMatches(waiver.entity, entityName)) continue;
    if (waiver.expiresAt !== undefined && now >= waiver.expiresAt) {
      expired ??= { reason: waiver.reason, expires: waiver.expires ?? '' };
      continue;
    }
    return { waived: true, reason: waiver.reason, ...(waiver.expires ? { expires: waiver.expires } : {}) };
  }
  return expired ? { waived: false, expired } : { waived: false };
}
