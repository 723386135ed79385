#!/usr/bin/env node
// Runs the built CLI (dist/); `make build` or `npm run build` produces it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('nomine: not built yet: run `make build` (or `npm run build`) in the repository first\n');
  process.exit(2);
}
await import(entry.href);
