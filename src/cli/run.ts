#!/usr/bin/env node
import { main } from './main.ts';

// A reader that stops early (`nomine scan … | head`) closes the pipe: end quietly, as Unix tools do, not with a
// stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

await main(process.argv);
