import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createApiKey } from '../../lib/app/create-api-key.ts';
import { createTenant, defaultCalendar } from '../../lib/app/create-tenant.ts';
import { DEMO_TEMPLATES } from '../../lib/app/seed-demo-tenant.ts';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import type { Container } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import type { ApiKey, BillingConfig } from '../../lib/domain/tenant-types.ts';
import type { BillingQueue, TemplateType } from '../../lib/domain/types.ts';
import type { HttpLambdaHandler } from '../../lib/http/http-handler.ts';
import {
  type LocalRoles,
  type LocalStack,
  loadRoutes,
  startLocalStack,
} from '../../lib/local/local-stack.ts';
import type { Clock } from '../../lib/ports/clock.ts';

/**
 * The local stack for end-to-end tests: a temp DATA_DIR, free ports, silent logs, a fixed demo
 * key and a clock the test drives. One scenario, two drivers: `post`/`get` go over HTTP, while
 * `invoke` calls the very same route handlers in-process with an API Gateway v2 event.
 */

/** Wednesday 2026-12-16 12:20 in São Paulo: inside the demo tenant's business hours, not a holiday. */
export const TEST_NOW = '2026-12-16T15:20:00.000Z';
export const TEST_DEMO_KEY = 'billing_e2e-demo-key-0123456789abcdefABCDEF';
export const API = '/api/v1/billing';

/** A clock that only moves when the test moves it. */
export interface TestClock extends Clock {
  set(at: Date | string): void;
  advance(ms: number): void;
}

/** A frozen clock starting at `start` (default TEST_NOW). */
export const createTestClock = (start: Date | string = TEST_NOW): TestClock => {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
};

/**
 * A JSON answer as tests read it: loosely typed on purpose, since the assertions are what check
 * its shape (a typed body would only move the casts into every test).
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyJson = any;

export interface TestResponse<B = AnyJson> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: B;
}

export interface RequestOptions {
  /** API key to send; `null` sends none. Defaults to the demo key. */
  key?: string | null;
  headers?: Record<string, string>;
  /** Send this text as the body instead of `JSON.stringify(body)`. */
  raw?: string;
}

export interface InvokeOptions {
  key?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** The raw body text (sent as is, like API Gateway would). */
  body?: string;
  sourceIp?: string;
}

export interface TestTenant {
  tenantId: string;
  /** The secret key, ready for `X-Billing-API-Key`. */
  key: string;
  apiKey: ApiKey;
}

export interface TestTenantOptions {
  id?: string;
  config?: Partial<BillingConfig>;
  /** Templates to create (default: the demo templates of every type). */
  templates?: TemplateType[];
  /** Store Monday-Friday 09:00-18:00 business hours (default true). */
  businessHours?: boolean;
  key?: { allowedTemplateTypes?: TemplateType[]; allowedIps?: string[]; expiresAt?: string | null };
}

export interface TestStack {
  url: string;
  demoKey: string;
  container: Container;
  clock: TestClock;
  stack: LocalStack;
  post<B = AnyJson>(path: string, body: unknown, options?: RequestOptions): Promise<TestResponse<B>>;
  get<B = AnyJson>(path: string, options?: RequestOptions): Promise<TestResponse<B>>;
  /** Calls a route handler in-process (no HTTP), as API Gateway would invoke the Lambda. */
  invoke(
    method: string,
    routePath: string,
    pathParameters: Record<string, string>,
    options?: InvokeOptions,
  ): Promise<APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string }>;
  /** A new tenant with templates, hours and one API key, made through the use cases. */
  createTenant(options?: TestTenantOptions): Promise<TestTenant>;
  /** Every queue of a tenant, following the store's cursors. */
  allQueues(tenantId: string): Promise<BillingQueue[]>;
  close(): Promise<void>;
}

export interface TestStackOverrides extends Partial<Container> {
  clock?: TestClock;
  /** Extra environment for `loadConfig` (e.g. MAX_BODY_BYTES). */
  env?: Record<string, string>;
  /** What this process runs (default: API and worker, as `npm start`); Accept tests leave the worker out. */
  roles?: LocalRoles;
}

const send = async (
  url: string,
  method: string,
  options: RequestOptions & { body?: string },
): Promise<TestResponse> => {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers['X-Billing-API-Key'] = options.key ?? TEST_DEMO_KEY;
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: options.body });
  const text = await response.text();
  let body: AnyJson = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (HTML docs page, plain text): the test sees the text.
  }
  return { status: response.status, headers: response.headers, body };
};

const lambdaContext = { awsRequestId: 'test', functionName: 'test' } as Context;

/** Starts the whole local stack in-process on free ports over a fresh temp data dir. */
export const startTestStack = async (overrides: TestStackOverrides = {}): Promise<TestStack> => {
  const { env, roles, clock: givenClock, ...containerOverrides } = overrides;
  const clock = givenClock ?? createTestClock();
  const dataDir = await mkdtemp(join(tmpdir(), 'billing-e2e-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    DYNAMODB_PORT: '0',
    SIMULATOR_PORT: '0',
    LOG_LEVEL: 'SILENT',
    BILLING_DEMO_API_KEY: TEST_DEMO_KEY,
    ...env,
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack(config, { ...containerOverrides, clock }, roles);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { container } = stack;
  // The API records a key's use without awaiting it. Closing the emulator under such a write makes
  // dynalite throw "Database is closed" outside any test, so the writes are tracked and close() waits.
  const inFlight = new Set<Promise<void>>();
  const recordUse = container.store.recordApiKeyUse.bind(container.store);
  container.store.recordApiKeyUse = (...args) => {
    const write = recordUse(...args).finally(() => inFlight.delete(write));
    inFlight.add(write);
    return write;
  };
  let handlers: Map<string, HttpLambdaHandler> | undefined;

  const testStack: TestStack = {
    url: stack.url,
    demoKey: TEST_DEMO_KEY,
    container,
    clock,
    stack,
    post: (path, body, options = {}) =>
      send(`${stack.url}${path}`, 'POST', { ...options, body: options.raw ?? JSON.stringify(body) }),
    get: (path, options = {}) => send(`${stack.url}${path}`, 'GET', options),

    invoke: async (method, routePath, pathParameters, options = {}) => {
      handlers ??= new Map(loadRoutes(container).map((r) => [`${r.method} ${r.path}`, r.handler]));
      const handler = handlers.get(`${method} ${routePath}`);
      if (!handler) throw new Error(`no route ${method} ${routePath}`);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.key !== null) headers['x-billing-api-key'] = options.key ?? TEST_DEMO_KEY;
      const rawPath = routePath.replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
      const requestId = randomUUID();
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: `${method} ${routePath}`,
        rawPath,
        rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
        headers,
        queryStringParameters: options.query,
        pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
        requestContext: {
          accountId: '000000000000',
          apiId: 'test',
          domainName: 'localhost',
          domainPrefix: 'localhost',
          http: {
            method,
            path: rawPath,
            protocol: 'HTTP/1.1',
            sourceIp: options.sourceIp ?? '127.0.0.1',
            userAgent: 'vitest',
          },
          requestId,
          routeKey: `${method} ${routePath}`,
          stage: '$default',
          time: clock.now().toISOString(),
          timeEpoch: clock.now().getTime(),
        },
        body: options.body,
        isBase64Encoded: false,
      };
      const result = await handler(event, lambdaContext);
      return { ...result, statusCode: result.statusCode ?? 200, body: result.body ?? '' };
    },

    createTenant: async (options = {}) => {
      const tenantId = options.id ?? `t-${randomUUID().slice(0, 8)}`;
      await createTenant(container, {
        id: tenantId,
        name: `Tenant ${tenantId}`,
        config: options.config ?? {},
      });
      for (const type of options.templates ?? (['overdue', 'upcoming', 'notification'] as const))
        await setTemplate(container, tenantId, type, DEMO_TEMPLATES[type]);
      if (options.businessHours !== false)
        await setBusinessHours(container, tenantId, defaultCalendar('America/Sao_Paulo'));
      const created = await createApiKey(container, {
        tenantId,
        name: 'e2e',
        allowedTemplateTypes: options.key?.allowedTemplateTypes,
        allowedIps: options.key?.allowedIps,
        expiresAt: options.key?.expiresAt ?? null,
      });
      return { tenantId, key: created.key, apiKey: created.apiKey };
    },

    allQueues: async (tenantId) => {
      const all: BillingQueue[] = [];
      let cursor: string | undefined;
      do {
        const page = await container.store.listQueues(tenantId, { limit: 100, cursor });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },

    close: async () => {
      try {
        await Promise.allSettled([...inFlight]);
        await stack.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
  return testStack;
};

/** Posts one overdue reminder for `phone` as `key`; the queue id (fails the test on a refusal). */
export const postOneOverdue = async (
  s: TestStack,
  key: string,
  externalId: string,
  phone: string,
): Promise<string> => {
  const sent = await s.post(
    `${API}/send/overdue`,
    {
      external_id: externalId,
      contacts: [
        {
          nome_cliente: 'Maria Souza',
          telefone: phone,
          valor: 'R$ 99,90',
          data_vencimento: '01/12/2026',
          numero_fatura: 'NF-1',
        },
      ],
    },
    { key },
  );
  if (sent.status !== 200) throw new Error(`send failed: ${sent.status} ${JSON.stringify(sent.body)}`);
  return sent.body.queue_id as string;
};
