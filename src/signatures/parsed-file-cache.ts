/**
 * Parsed signature files kept by content: a scan the layer cache answers is mostly start-up, and parsing the YAML
 * signature files (the YAML library loaded for it) was a sixth of that. An entry is the validated data as JSON, named
 * by the SHA-256 of the parser's own source and the file's content, so an edited file, or a new schema, misses. The
 * cache is an optimisation only: a damaged entry is a miss, and a directory that cannot be written is not an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../platform/source-module.ts';
import type { SignatureFile } from './schema.ts';

/** The modules whose code decides what a signature file parses to. */
const parserModules = ['parse-signature-file', 'schema', 'ssdeep', 'tlsh'];

let parserIdentity: string | undefined;

function identity(): string {
  if (!parserIdentity) {
    const digest = createHash('sha256');
    for (const module of parserModules) digest.update(readFileSync(fileURLToPath(siblingModule(import.meta.url, module))));
    parserIdentity = digest.digest('hex');
  }
  return parserIdentity;
}

export interface ParsedFileCache {
  get(content: string): SignatureFile | undefined;
  set(content: string, data: SignatureFile): void;
}

export function parsedFileCache(dir: string): ParsedFileCache {
  const entryPath = (content: string) => join(dir, `${createHash('sha256').update(identity()).update('\0').update(content).digest('hex')}.json`);
  return {
    get(content) {
      try {
        const data = JSON.parse(readFileSync(entryPath(content), 'utf8')) as SignatureFile;
        return typeof data === 'object' && data !== null && typeof data.kind === 'string' ? data : undefined;
      } catch {
        return undefined;
      }
    },
    set(content, data) {
      const path = entryPath(content);
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Written whole, then renamed: a reader never sees half an entry.
        writeFileSync(temporary, JSON.stringify(data), { mode: 0o600 });
        renameSync(temporary, path);
      } catch {
        try {
          rmSync(temporary, { force: true });
        } catch {
          // the directory itself is out of reach: nothing was written
        }
      }
    },
  };
}
