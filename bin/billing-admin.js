#!/usr/bin/env node
// Package bin for the admin CLI: runs the TypeScript entry point through tsx.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Local runs use Node 20 on purpose (Lambda runs 22): the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(root, 'lib/admin/main.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
