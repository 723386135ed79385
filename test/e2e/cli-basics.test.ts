/**
 * The CLI's manners outside any one command: `--version` answers without loading the commands, and a reader that
 * stops early (`| head`) ends the run quietly instead of with a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliEntry, repositoryRoot, runCli, tempHome } from '../helpers/run-cli.ts';

const version = (JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { version: string }).version;

test('--version prints the package version and exits 0', async () => {
  const result = await runCli(['--version'], { home: await tempHome() });
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), version);
});

test('a reader that closes the pipe early ends the run with exit 0 and no stack trace', async () => {
  const child = spawn(process.execPath, [cliEntry, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOMINE_HOME: await tempHome() } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Like `head` done reading: our end is closed before the help is written, so the write meets a closed pipe.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});
