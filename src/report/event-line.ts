/**
 * One line per runtime event for `nomine agent watch` on a terminal, in the spirit of `tetra getevents -o compact`:
 * time, entity, event type, pid, and what happened. `--json` prints the event object itself instead.
 */
import pc from 'picocolors';
import type { RuntimeEvent } from '../agent/event.ts';

const typeWidth = 11;

function describe(event: RuntimeEvent): string {
  switch (event.type) {
    case 'exec': {
      const args = event.argv.slice(1).map((arg) => (/[\s"'\\]/.test(arg) || arg === '' ? JSON.stringify(arg) : arg)).join(' ');
      const hash = event.sha256 ? ` sha256:${event.sha256.slice(0, 12)}` : event.hashError ? ` (no hash: ${event.hashError})` : '';
      // busybox applets and symlinked tools run one file under many names: show the name it was run as.
      const argv0 = event.argv[0];
      const runAs = argv0 && argv0.split('/').pop() !== event.exe.split('/').pop() ? ` (as ${argv0})` : '';
      return `${event.exe}${runAs}${args ? ` ${args}` : ''}${event.exeDeleted ? ' [deleted executable]' : ''}${hash} uid=${event.uid} ppid=${event.ppid}`;
    }
    case 'exit':
      return event.exitCode === undefined ? '' : `code ${event.exitCode}`;
    case 'connect':
    case 'accept': {
      const host = event.family === 6 ? `[${event.address}]` : event.address;
      return `${event.type === 'connect' ? '→' : '←'} ${event.protocol} ${host}:${event.port}${event.localPort ? ` on :${event.localPort}` : ''}`;
    }
    case 'listen':
      return `${event.protocol} ${event.family === 6 ? `[${event.address}]` : event.address}:${event.port}`;
    case 'file-write':
      return `${event.path}${event.flags?.length ? ` (${event.flags.join('|')})` : ''}`;
    case 'cpu-sample':
      return `${event.cores.toFixed(2)} cores over ${event.intervalMs} ms`;
    case 'syscalls': {
      const names = Object.keys(event.counts).sort();
      return `${names.length} syscalls: ${names.slice(0, 12).join(' ')}${names.length > 12 ? ' …' : ''}`;
    }
  }
}

export function formatEventLine(event: RuntimeEvent, entityName: string, color: boolean): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const type = event.type.padEnd(typeWidth);
  const who = `${entityName}${event.comm ? ` ${event.comm}` : ''}`;
  const pid = event.type === 'cpu-sample' || event.type === 'syscalls' ? '' : ` pid=${event.pid}`;
  const line = `${time} ${color ? pc.cyan(who) : who} ${color ? pc.bold(type) : type}${pid} ${describe(event)}`;
  return line.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
