#!/usr/bin/env node
// Package bin for the spreadsheet import: runs the TypeScript entry point through tsx.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Ctrl-C reaches the import itself too (same process group), which finishes its batch in flight
// and prints its counts: this wrapper only waits for it instead of dying first.
process.on('SIGINT', () => undefined);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(root, 'lib/import/main.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? (result.signal === 'SIGINT' ? 130 : 1));
