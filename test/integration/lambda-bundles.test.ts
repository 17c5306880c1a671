import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import { DEPLOYED_OPERATIONS, type RouteOperation } from '../../lib/http/routes/index.ts';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';
import { type BuiltLambda, buildLambdas, REQUIRE_BANNER } from '../../scripts/build-lambda.ts';
import { assertLoopbackEndpoint } from '../support/dynalite.ts';

/**
 * Builds the Lambda bundles (scripts/build-lambda.ts), imports each one as the nodejs22.x runtime
 * would, and invokes it once against the DynamoDB emulator: a handler that only works unbundled (a
 * dynamic require, a file read from the source tree, a middleware left out) fails here.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TABLE = 'billing-bundles';
const RESULTS_MARKER = '@@bundle-results@@';
const execFileAsync = promisify(execFile);
/** Entry points that are not HTTP routes, with the no-op event each is invoked with. */
const BACKGROUND_EVENTS: Record<string, unknown> = {
  sender: { Records: [] },
  sweeper: {},
  release: {},
  'callback-deliverer': {},
  'callback-sender': { Records: [] },
  // The API's $default route: a trailing-slash spelling answers 308 (lib/http/trailing-slash.ts).
  'trailing-slash': { rawPath: '/health/', rawQueryString: '', requestContext: { http: { method: 'GET' } } },
};
/** SQS consumers: their no-op event is an empty batch, answered with no failures. */
const SQS_CONSUMERS = ['sender', 'callback-sender'];
const SAMPLE_PATH_PARAMETERS: Record<string, string> = {
  queue_id: 'q-00000000',
  external_id: 'erp-0001',
  telefone: '5511987654321',
  asset: 'swagger-ui.css',
};

/**
 * Runs in a child `node` process: imports each bundle with Node's own ESM loader (as the nodejs22.x
 * runtime does; vitest's module runner would transform the 4 MB files instead) and invokes it. The
 * child gets only the environment a deployment would give, so nothing leaks from the test process.
 */
const RUNNER = `
const { pathToFileURL } = await import('node:url');
const steps = JSON.parse(process.env.BUNDLE_STEPS);
const results = {};
for (const step of steps) {
  try {
    const mod = await import(pathToFileURL(step.file).href);
    const result = { exports: Object.keys(mod) };
    if (step.event !== undefined) {
      const context = { ...step.context, getRemainingTimeInMillis: () => 300000 };
      result.value = (await mod.handler(step.event, context)) ?? null;
    }
    results[step.id] = result;
  } catch (error) {
    results[step.id] = { error: String((error && error.stack) || error) };
  }
}
process.stdout.write('\\n${RESULTS_MARKER}' + JSON.stringify(results) + '\\n');
`;

interface Step {
  id: string;
  file: string;
  event?: unknown;
  context?: Omit<Context, 'getRemainingTimeInMillis'>;
}
interface StepResult {
  exports?: string[];
  value?: unknown;
  error?: string;
}

/** Imports and invokes the bundles in one child process; results by step id. */
const runInChild = async (
  steps: Step[],
  env: Record<string, string>,
): Promise<Record<string, StepResult>> => {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: { PATH: process.env.PATH ?? '', ...env, BUNDLE_STEPS: JSON.stringify(steps) },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const at = stdout.lastIndexOf(RESULTS_MARKER);
  if (at < 0) throw new Error(`bundle runner printed no results:\n${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(at + RESULTS_MARKER.length)) as Record<string, StepResult>;
};

const lambdaContext = (functionName: string): Omit<Context, 'getRemainingTimeInMillis'> => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: `req-${functionName}`,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'bundle-test',
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** An API Gateway HTTP API (payload 2.0) event for a route of the table, path parameters filled in. */
const httpEvent = (route: RouteOperation, headers: Record<string, string> = {}): APIGatewayProxyEventV2 => {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const pathParameters = Object.fromEntries(names.map((n) => [n, SAMPLE_PATH_PARAMETERS[n] ?? 'x']));
  const rawPath = route.path.replace(/\{(\w+)\}/g, (_m, n: string) => pathParameters[n] ?? 'x');
  const now = Date.parse('2025-06-02T12:00:00Z');
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath,
    rawQueryString: '',
    headers: { host: 'api.example.test', 'user-agent': 'vitest', ...headers },
    ...(names.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'bundles',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: route.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
      requestId: `req-${route.route}`,
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
};

describe('lambda bundles', () => {
  let outDir: string;
  let built: BuiltLambda[];
  let db: EmbeddedDynamoDb | undefined;
  let results: Record<string, StepResult>;

  const authenticated = DEPLOYED_OPERATIONS.filter((r) => r.auth === 'apiKey');
  const publicRoutes = DEPLOYED_OPERATIONS.filter((r) => r.auth !== 'apiKey');
  const routeId = (route: RouteOperation) => `${route.method} ${route.path}`;

  /** The value a step's handler returned, or the failure with the child's stack trace. */
  const returned = (id: string): unknown => {
    const result = results[id];
    if (!result) throw new Error(`no result for ${id}`);
    if (result.error) throw new Error(`${id} threw in the bundle:\n${result.error}`);
    return result.value;
  };
  const responseOf = (id: string) => returned(id) as APIGatewayProxyStructuredResultV2;

  beforeAll(async () => {
    // Under the project, not the OS temp dir: the external swagger-ui-dist resolves from node_modules.
    await mkdir(join(ROOT, 'dist'), { recursive: true });
    outDir = await mkdtemp(join(ROOT, 'dist', 'bundle-test-'));
    built = await buildLambdas({ outDir });

    db = await startEmbeddedDynamoDb({});
    assertLoopbackEndpoint(db.endpoint);
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bundle-test', secretAccessKey: 'bundle-test' },
    });
    await ensureTable(client, TABLE);
    client.destroy();

    const file = (name: string) => built.find((b) => b.name === name)?.file ?? join(outDir, `${name}.mjs`);
    const steps: Step[] = [
      ...built.map((b) => ({ id: `load ${b.name}`, file: b.file })),
      ...DEPLOYED_OPERATIONS.map((route) => ({
        id: routeId(route),
        file: file(route.route),
        event: httpEvent(route),
        context: lambdaContext(route.route),
      })),
      ...Object.entries(BACKGROUND_EVENTS).map(([name, event]) => ({
        id: name,
        file: file(name),
        event,
        context: lambdaContext(name),
      })),
    ];
    // What a deployment would set (infra/runtime.ts), pointed at the emulator with dummy credentials.
    results = await runInChild(steps, {
      TABLE_NAME: TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bundle-test',
      AWS_SECRET_ACCESS_KEY: 'bundle-test',
      LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('bundles every entry point of functions/ as ESM with the require banner and a source map', async () => {
    // Prepare
    const entryPoints = (await readdir(join(ROOT, 'functions')))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => basename(f, '.ts'))
      .sort();
    // Assess
    expect(built.map((b) => b.name)).toEqual(entryPoints);
    for (const lambda of built) {
      expect(readFileSync(lambda.file, 'utf8').startsWith(REQUIRE_BANNER), lambda.name).toBe(true);
      expect(existsSync(`${lambda.file}.map`), `${lambda.name}.mjs.map`).toBe(true);
    }
  });

  it("loads every bundle with Node's ESM loader and finds its handler export", () => {
    // Assess
    for (const lambda of built) {
      const result = results[`load ${lambda.name}`];
      expect(result?.error, lambda.name).toBeUndefined();
      expect(result?.exports, lambda.name).toContain('handler');
    }
  });

  it('keeps swagger-ui-dist out of the docs bundle', () => {
    // Act
    const docs = readFileSync(join(outDir, 'docs.mjs'), 'utf8');
    // Assess: the package's megabyte of JS is read at run time, not inlined.
    expect(docs).not.toContain('SwaggerUIBundle=function');
    expect(docs).toContain('swagger-ui-dist/package.json');
  });

  it('answers GET /health with 200 from the health bundle, through the store', () => {
    // Act
    const response = responseOf('GET /health');
    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toMatchObject({ status: 'ok', store: 'ok' });
  });

  it.each(authenticated.map((r) => [routeId(r)]))(
    'refuses %s without an API key with a 401 (auth middleware and error mapping are bundled)',
    (id) => {
      // Act
      const response = responseOf(id);
      // Assess
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(String(response.body))).toMatchObject({ success: false, code: expect.any(String) });
    },
  );

  it.each(publicRoutes.map((r) => [routeId(r)]))('answers public route %s without a server error', (id) => {
    // Act
    const response = responseOf(id);
    // Assess
    expect(response.statusCode).toBeLessThan(500);
  });

  it('serves a swagger-ui-dist asset from the docs bundle (the external package resolves)', () => {
    // Prepare
    const asset = DEPLOYED_OPERATIONS.find((r) => r.route === 'docs' && r.path.includes('{asset}'));
    if (!asset) throw new Error('no docs asset route');
    // Act
    const response = responseOf(routeId(asset));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^text\/css/);
    expect(String(response.body).length).toBeGreaterThan(1000);
  });

  it.each(SQS_CONSUMERS)('returns no failures from the %s bundle for an empty batch', (name) => {
    // Assess
    expect(returned(name)).toEqual({ batchItemFailures: [] });
  });

  it.each(Object.keys(BACKGROUND_EVENTS).filter((name) => !SQS_CONSUMERS.includes(name)))(
    'runs the %s bundle on a no-op event without throwing',
    (name) => {
      // Assess
      expect(results[name]?.error).toBeUndefined();
      expect(results[name]).toHaveProperty('value');
    },
  );

  it('covers every entry point: each is a route or has a background smoke event', () => {
    // Prepare
    const routed = new Set(DEPLOYED_OPERATIONS.map((r) => r.route));
    // Assess
    for (const lambda of built) {
      // A new entry point needs a route in lib/http/routes/index.ts or a smoke event in BACKGROUND_EVENTS.
      expect(routed.has(lambda.name) || lambda.name in BACKGROUND_EVENTS, lambda.name).toBe(true);
    }
  });
});
