/**
 * Signature file schemas (zod 4): the closed formats a signatures directory holds besides YARA rules. Every file
 * names its `kind` and `schemaVersion`, so a file from a newer nomine fails with a clear message instead of being
 * half understood, and objects are strict, so a misspelt key is an error rather than a silently ignored rule.
 */
import { z } from 'zod';
import { severities } from '../core/severity.ts';
import { parseSsdeep } from './ssdeep.ts';
import { normaliseTlsh } from './tlsh.ts';

const strength = z.enum(['conclusive', 'strong', 'weak']);
const text = z.string().trim().min(1);

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

const hashEntry = z.strictObject({
  sha256: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hexadecimal digits')
    .transform((value) => value.toLowerCase()),
  name: text,
  family: text,
  reference: text.optional(),
});

const fuzzyEntry = z
  .strictObject({
    tlsh: z
      .string()
      .refine((value) => normaliseTlsh(value) !== undefined, 'expected a TLSH digest: 70 hex digits, optionally prefixed T1')
      .transform((value) => normaliseTlsh(value)!)
      .optional(),
    ssdeep: z
      .string()
      .trim()
      .refine((value) => parseSsdeep(value) !== undefined, 'expected an ssdeep digest: blocksize:hash:hash')
      .optional(),
    name: text,
    family: text,
    reference: text.optional(),
  })
  .refine((entry) => entry.tlsh !== undefined || entry.ssdeep !== undefined, 'a fuzzy entry needs tlsh or ssdeep');

export const hashListFile = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal('hashes'),
  description: z.string().optional(),
  hashes: z.array(hashEntry).default([]),
  fuzzy: z.array(fuzzyEntry).default([]),
});

const keywordList = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case words joined by - or .'),
    summary: text,
    strength,
    severity: z.enum(severities).optional(),
    scopes: z.array(z.enum(['files', 'image-config'])).min(1).default(['files', 'image-config']),
    caseSensitive: z.boolean().default(false),
    literals: z.array(z.string().min(3, 'literals shorter than 3 characters match everywhere')).default([]),
    patterns: z.array(z.string().min(1).refine(isRegExp, 'not a valid JavaScript regular expression')).default([]),
  })
  .refine((list) => list.literals.length + list.patterns.length > 0, 'a keyword list needs literals or patterns');

export const keywordFile = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal('keywords'),
  description: z.string().optional(),
  lists: z.array(keywordList).default([]),
  stratumPorts: z.array(z.number().int().min(1).max(65535)).default([]),
});

const minerImage = z.strictObject({
  repository: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._/-]*$/, 'expected a repository name like owner/name, without tag or registry')
    .transform((value) => value.toLowerCase()),
  family: text.optional(),
  reference: text.optional(),
});

export const minerImageFile = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal('miner-images'),
  description: z.string().optional(),
  images: z.array(minerImage).default([]),
});

export const signatureFile = z.discriminatedUnion('kind', [hashListFile, keywordFile, minerImageFile]);
export type SignatureFile = z.infer<typeof signatureFile>;
export type KeywordListData = z.infer<typeof keywordList>;
