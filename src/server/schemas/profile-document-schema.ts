/**
 * A Profile (src/profile/profile.ts) as it travels between agents and the console: in a batch as a node's
 * contribution, in a sync answer as the fleet's merge. Outside data on both ends, so every array, string and map is
 * bounded (by the same limits learning itself keeps) and the profile id must be the one its workload key derives.
 * Unknown fields are dropped, not refused: a newer agent's extra fields must not block an older console.
 */
import { z } from 'zod';
import { maxEnvelopeCores } from '../../profile/cpu-envelope.ts';
import { profileLimits } from '../../profile/learn.ts';
import { enforcementModes, type Profile } from '../../profile/profile.ts';
import { profileIdFor } from '../../profile/workload-key.ts';

/** The finest CPU bucket accepted: bounds the histogram to maxEnvelopeCores / this + 1 buckets. */
export const minBucketCores = 0.01;
export const maxHistogramBuckets = Math.ceil(maxEnvelopeCores / minBucketCores) + 1;
const maxTextChars = 4096;
const maxSelectorLabels = 64;

const text = z.string().max(maxTextChars);
const time = z.number().nonnegative().max(8.64e15);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const source = z.enum(['learned', 'image', 'approved']);
const protocol = z.enum(['tcp', 'udp']);
const port = z.number().int().min(0).max(65_535);

export const profileDocument = z
  .object({
    id: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'use printable ASCII without spaces'),
    key: z.object({ imageDigest: z.string().min(1).max(512), workload: z.string().min(1).max(512) }),
    image: z.string().max(512).optional(),
    mode: z.enum(enforcementModes),
    phase: z.enum(['learning', 'enforcing']),
    learningStartedAt: time,
    lastNewBehaviourAt: time,
    enforcingSince: time.optional(),
    selector: z
      .record(z.string().max(317), z.string().max(63))
      .refine((labels) => Object.keys(labels).length <= maxSelectorLabels, `at most ${maxSelectorLabels} labels`),
    kubernetes: z.object({ namespace: z.string().max(253), workloadKind: z.string().max(63).optional(), workloadName: z.string().max(253).optional() }).optional(),
    allow: z.object({
      processes: z
        .array(
          z.object({
            exe: text,
            sha256: z.array(z.string().max(128)).max(profileLimits.digestsPerExecutable),
            parents: z.array(text).max(profileLimits.parentsPerExecutable),
            source,
            firstSeen: time,
          }),
        )
        .max(profileLimits.processes),
      egress: z.array(z.object({ address: z.string().max(64), port, protocol, source, firstSeen: time })).max(profileLimits.egress),
      listen: z.array(z.object({ port, protocol, source, firstSeen: time })).max(profileLimits.listen),
      fileWrites: z.array(z.object({ pattern: text, source, firstSeen: time })).max(profileLimits.fileWrites),
      syscalls: z.array(z.string().max(64)).max(profileLimits.syscalls).optional(),
      cpu: z.object({
        histogram: z.array(count).max(maxHistogramBuckets),
        bucketCores: z.number().min(minBucketCores).max(maxEnvelopeCores),
        samples: count,
        quantileCores: z.number().nonnegative().max(maxEnvelopeCores),
      }),
    }),
    revision: count,
  })
  .refine((profile) => profileIdFor(profile.key) === profile.id, { message: 'the id is not the one its key (image digest and workload) derives', path: ['id'] });

/** The document as a Profile, or the first problem (`allow.processes.3.exe: …`). */
export function parseProfileDocument(value: unknown): { ok: true; profile: Profile } | { ok: false; problem: string } {
  const result = profileDocument.safeParse(value);
  if (result.success) return { ok: true, profile: result.data as Profile };
  const issue = result.error.issues[0]!;
  return { ok: false, problem: `${issue.path.map(String).join('.') || 'document'}: ${issue.message}` };
}
