/**
 * Image config from a registry: the config blob, checked for size, digest and shape before the scanner trusts its
 * diff_ids as layer cache keys. Unknown fields are kept, as ImageConfig promises.
 */
import { z } from 'zod';
import { NomineError } from '../../core/errors.ts';
import type { ImageConfig } from '../image-source.ts';

const stringList = z.array(z.string()).nullable().optional();

const imageConfigSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  config: z
    .looseObject({
      Entrypoint: stringList,
      Cmd: stringList,
      Env: stringList,
      Labels: z.record(z.string(), z.string()).nullable().optional(),
      User: z.string().optional(),
      WorkingDir: z.string().optional(),
      ExposedPorts: z.record(z.string(), z.unknown()).nullable().optional(),
    })
    .nullable()
    .optional(),
  history: z
    .array(
      z.looseObject({
        created_by: z.string().optional(),
        comment: z.string().optional(),
        empty_layer: z.boolean().optional(),
        created: z.string().optional(),
      }),
    )
    .optional(),
  rootfs: z.looseObject({ type: z.string().optional(), diff_ids: z.array(z.string().regex(/^sha(256|512):[a-f0-9]+$/)).optional() }).optional(),
});

export function parseImageConfig(bytes: Buffer, part: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new NomineError('invalid-input', 'the image config is not valid JSON', part, { cause: error });
  }
  const result = imageConfigSchema.safeParse(json);
  if (!result.success) throw new NomineError('invalid-input', `the image config is malformed: ${z.prettifyError(result.error)}`, part);
  return result.data as ImageConfig;
}
