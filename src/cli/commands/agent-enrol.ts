/**
 * `nomine agent enrol`: joins this node to a nomine console with a join token an admin created there. The console
 * answers the agent's own credential, which is kept in $NOMINE_HOME/console.json (mode 0600) with the console's
 * URL; `nomine agent run` then delivers to the console on its own. Running it again for the same console changes
 * nothing (a join token is not spent twice); another console needs --force.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { createConsoleClient } from '../../agent/console/console-client.ts';
import { consoleEnrolmentFile, readConsoleEnrolment, writeConsoleEnrolment } from '../../agent/console/console-enrolment.ts';
import { NomineError } from '../../core/errors.ts';
import { ensureDataHome, resolveDataHome } from '../../platform/data-home.ts';
import { toolVersion } from '../tool-version.ts';

interface EnrolFlags {
  server: string;
  joinTokenFile: string;
  nodeName?: string;
  caFile?: string;
  force?: boolean;
}

const nodeNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

function sameServer(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
    } catch {
      return url;
    }
  };
  return normal(a) === normal(b);
}

function readJoinToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new NomineError('not-found', `cannot read the join token: ${(error as Error).message}`, file, { cause: error });
  }
  const token = text.trim();
  if (!token) throw new NomineError('invalid-input', 'the join token file is empty', file);
  if (token.length > 256 || /\s/.test(token)) throw new NomineError('invalid-input', 'the file does not hold one join token (nmnj_…)', file);
  return token;
}

export function agentEnrolCommand(): Command {
  return new Command('enrol')
    .description('enrol this node with a nomine console, using a join token an admin created there')
    .requiredOption('--server <url>', 'the console, e.g. https://nomine.example.com:7480')
    .requiredOption('--join-token-file <file>', 'file holding the join token (nmnj_…): a file, so the token stays out of the process list and shell history')
    .option('--node-name <name>', 'how the console names this node (default: the host name)')
    .option('--ca-file <pem>', "CA certificate that signed the console's TLS certificate, when it is not a public one")
    .option('--force', 'enrol again, replacing an enrolment with another console')
    .addHelpText(
      'after',
      `\nThe console answers this agent's own credential, kept with the console's URL in $NOMINE_HOME/console.json (mode 0600).
From then on \`nomine agent run\` delivers alerts, entities, event summaries and profiles to the console, and
applies the fleet's merged profiles, approvals, relearn requests and modes set there.`,
    )
    .action(async (flags: EnrolFlags) => {
      const home = ensureDataHome(resolveDataHome());
      const nodeName = flags.nodeName ?? hostname();
      if (!nodeNamePattern.test(nodeName)) throw new NomineError('invalid-input', `"${nodeName.slice(0, 64)}" is not a usable node name: letters, digits, dot, dash and underscore`, '--node-name');
      const existing = await readConsoleEnrolment(home).catch((error: unknown) => {
        if (flags.force) return undefined;
        throw error;
      });
      if (existing && !flags.force) {
        if (sameServer(existing.server, flags.server)) {
          process.stdout.write(`already enrolled with ${existing.server} as agent ${existing.agentId} (node ${existing.nodeName}); nothing to do\n`);
          return;
        }
        throw new NomineError('conflict', `this node is enrolled with ${existing.server} as agent ${existing.agentId}; pass --force to enrol with ${flags.server} instead`, consoleEnrolmentFile(home));
      }
      const joinToken = readJoinToken(flags.joinTokenFile);
      const caFile = flags.caFile ? resolve(flags.caFile) : undefined;
      const client = createConsoleClient({ server: flags.server, ...(caFile ? { caFile } : {}) });
      try {
        const answer = await client.enrol({ joinToken, nodeName, version: toolVersion() });
        await writeConsoleEnrolment(home, { server: flags.server, agentId: answer.agentId, credential: answer.credential, nodeName, ...(caFile ? { caFile } : {}), enrolledAt: new Date().toISOString() });
        process.stdout.write(`enrolled with ${flags.server} as agent ${answer.agentId} (node ${nodeName}); credential kept in ${consoleEnrolmentFile(home)} (mode 0600)\n`);
      } finally {
        await client.close();
      }
    });
}
