/**
 * The console link's files in $NOMINE_HOME/console/ (and console.json beside it): small JSON documents written
 * privately (mode 0600) and atomically (temp file, fsync, rename, fsync of the directory), so a crash leaves the old
 * or the new content, never a torn one, and a credential is never readable by other users.
 */
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NomineError } from '../../core/errors.ts';

/** The largest state file read back (a pending batch can be a few MiB). */
export const maxStateFileBytes = 16 * 1024 * 1024;

export async function writeStateFile(path: string, value: unknown): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** The parsed file, or undefined when there is none; a file that is not JSON is an error naming it. */
export async function readStateFile(path: string): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > maxStateFileBytes) throw new NomineError('limit-exceeded', `larger than ${maxStateFileBytes} bytes`, path);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new NomineError('invalid-input', `not JSON: ${(error as Error).message}`, path, { cause: error });
  }
}

export async function removeStateFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
