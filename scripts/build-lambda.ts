import { mkdir, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * `npm run build:lambda`: bundles every entry point of functions/ into dist/functions/<name>.mjs, the
 * way Lambda's nodejs22.x runtime loads them (ESM). SST bundles the deployed functions itself; this
 * build is what test/integration/lambda-bundles.test.ts imports and invokes, so a handler that only
 * works unbundled (a dynamic require, a file read next to the source) fails here, not in AWS.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Packages left out of the bundle. functions/docs.ts reads swagger-ui-dist's JS and CSS from
 * node_modules at run time, so the package must sit next to the bundle: infra/api.ts installs it
 * (SST `nodejs.install`).
 */
export const LAMBDA_EXTERNALS: readonly string[] = ['swagger-ui-dist'];

/**
 * CommonJS dependencies bundled into ESM still call `require` for Node built-ins; ESM has none,
 * so the bundle defines one (esbuild's `__require` shim uses it when present).
 */
export const REQUIRE_BANNER = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  'const require = __bundleCreateRequire(import.meta.url);',
].join('\n');

export interface BuiltLambda {
  /** Entry point name: `functions/<name>.ts`. */
  name: string;
  /** Absolute path of the bundle. */
  file: string;
}

/** Bundles every `functions/*.ts` (ESM, Node 22, source maps) into `outDir` (default dist/functions). */
export async function buildLambdas(
  options: { rootDir?: string; outDir?: string } = {},
): Promise<BuiltLambda[]> {
  const rootDir = options.rootDir ?? ROOT;
  const outDir = options.outDir ?? join(rootDir, 'dist', 'functions');
  const names = (await readdir(join(rootDir, 'functions')))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
  await mkdir(outDir, { recursive: true });
  await build({
    absWorkingDir: rootDir,
    entryPoints: Object.fromEntries(names.map((name) => [name, join(rootDir, 'functions', `${name}.ts`)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // ESM entry points of dual packages first: smaller bundles, no CJS interop where avoidable.
    mainFields: ['module', 'main'],
    sourcemap: true,
    // Readable stack traces in CloudWatch beat a few kilobytes.
    minify: false,
    keepNames: true,
    external: [...LAMBDA_EXTERNALS],
    banner: { js: REQUIRE_BANNER },
    logLevel: 'warning',
  });
  return names.map((name) => ({ name, file: join(outDir, `${name}.mjs`) }));
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const built = await buildLambdas();
  for (const lambda of built) console.log(`built ${lambda.file}`);
}
