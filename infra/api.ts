import { API_TIMEOUT_SECONDS } from '../lib/app/api-timeout.ts';
import type { RouteAuth } from '../lib/http/route.ts';
import { DEPLOYED_ROUTES } from '../lib/http/routes/index.ts';
import { type AppFunctionOptions, appFunctionArgs, type FunctionAccess, TABLE_ACTIONS } from './runtime.ts';
import { schedulerEnvironment, schedulerPermissions } from './scheduler.ts';
import { logRetention } from './stage.ts';

/**
 * The HTTP API (design section 6): every operation of the deployed routes (lib/http/routes/index.ts;
 * the dashboard is a static site instead, infra/dashboard.ts), each to its route's entry point
 * functions/<name>.handler. One function per entry point, shared by its routes. Authentication and the per-key hourly limit are ours (HTTP APIs have no API keys or usage
 * plans). Paths are declared once, without a trailing slash: API Gateway does not fold one, and
 * whether it accepts `/x/` route keys at all is unverified (CDK refuses them, SAM strips the slash).
 * The slash spellings reach the `$default` route instead, whose function answers 308 to the
 * canonical path (functions/trailing-slash.ts); the local gateway serves both spellings directly.
 */

/**
 * Route-level throttles (requests per second and burst, per route key: API Gateway keeps one budget
 * per route). ERP routes use the stage default, the Evolution webhook and the public routes (docs,
 * health) have their own, so a flood of one never gets another 429s: an ERP in a loop is cut on its
 * route, and Evolution, which loses a receipt it is refused, keeps its budget. The per-key hourly
 * limit (tenant config `apiRateLimitPerHour`) stays ours, in lib/http/authenticate.ts.
 */
export const THROTTLES = {
  /** Every `apiKey` route (and `$default`): batches of up to 1000 contacts, status polls. */
  erp: { burstLimit: 100, rateLimitPerSecond: 50 },
  /** Evolution's webhook: ~3 events per message sent (sent, delivered, read) arrive in bursts. */
  webhook: { burstLimit: 400, rateLimitPerSecond: 200 },
  /** Docs, OpenAPI, health, metrics: people and probes. */
  public: { burstLimit: 20, rateLimitPerSecond: 10 },
} as const;

/**
 * Executions of the Evolution webhook's function at once. Evolution posts to the function's own URL
 * (below), which has no per-request charge and no throttle of its own: this reservation is its
 * throttle instead. A webhook takes ~50-100 ms (an instance, a message and a contact read, a few
 * writes), so 10 executions take ~100-200 posts a second, about THROTTLES.webhook's rate and some 30
 * times the receipts of 10 instances sending at the default pace. Past it Lambda answers 429, which
 * Evolution retries with backoff like a 5xx (it gives up only on 400/401/403/404/422). It also caps
 * what a flood of forged posts can cost: each is one invocation answered 401 after one read.
 */
export const WEBHOOK_RESERVED_CONCURRENCY = 10;

/**
 * Routes whose function also gets a Lambda function URL, and Evolution is pointed there
 * (`instance webhook --url <the evolutionWebhook output>`): the same path under another host, served
 * by the same function (functions/evolution-webhook.ts reads both events). A function URL costs
 * nothing per request, where API Gateway bills each of the ~2 receipts a message. No CORS: Evolution
 * posts server to server. The API route stays, throttled, for instances set up before (and is free
 * while nothing posts to it); `instance webhook` moves an instance over.
 */
export const FUNCTION_URL_ROUTES: Readonly<Record<string, Pick<AppFunctionOptions, 'url' | 'concurrency'>>> =
  {
    'evolution-webhook': { url: { cors: false }, concurrency: { reserved: WEBHOOK_RESERVED_CONCURRENCY } },
  };

export const throttleOf = (auth: RouteAuth): keyof typeof THROTTLES =>
  auth === 'apiKey' ? 'erp' : auth === 'webhookSecret' ? 'webhook' : 'public';

/**
 * The access-log line: the route template, never the raw path or query (`/optouts/{telefone}` would
 * log a full phone number for months; design section 7), and no caller IP or user agent.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLatency: '$context.responseLatency',
});

const throttleSettings = (
  budget: keyof typeof THROTTLES,
): aws.types.input.apigatewayv2.StageDefaultRouteSettings => ({
  throttlingBurstLimit: THROTTLES[budget].burstLimit,
  throttlingRateLimit: THROTTLES[budget].rateLimitPerSecond,
});

/** Route keys with their own budget: every operation that is not an ERP route. */
const routeThrottles = DEPLOYED_ROUTES.flatMap((route) => route.operations)
  .filter((operation) => throttleOf(operation.auth) !== 'erp')
  .map(
    (operation): aws.types.input.apigatewayv2.StageRouteSetting => ({
      routeKey: `${operation.method} ${operation.path}`,
      ...throttleSettings(throttleOf(operation.auth)),
    }),
  );

/**
 * API Gateway refuses route settings for a route that does not exist yet, and SST creates the stage
 * before the routes: the stage waits for the routes declared below (Pulumi takes a promise there).
 */
let routesDeclared: (routes: $util.Resource[]) => void = () => undefined;
const declaredRoutes = new Promise<$util.Resource[]>((resolve) => {
  routesDeclared = resolve;
});

/** Below API Gateway's 30 s; the campaign lease of the accept path is derived from it. */
const HTTP_TIMEOUT = `${API_TIMEOUT_SECONDS} seconds` as const;

/** Batch intake validates, renders and writes up to 1000 contacts: more memory is more CPU. */
const sizing = (fn: string): Pick<AppFunctionOptions, 'memory'> => ({
  memory: fn.startsWith('send-') ? '1024 MB' : '512 MB',
});

/** Packages an entry point reads files of at run time (swagger-ui-dist's JS/CSS): installed, not bundled. */
const INSTALL: Readonly<Record<string, string[]>> = { docs: ['swagger-ui-dist'] };

/** `send-overdue` -> `ApiSendOverdue`: the SST component name of an entry point's function. */
export const apiFunctionName = (fn: string) =>
  `Api${fn
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;

/**
 * The one origin browsers may call the API from: the operator dashboard's static site. The site is
 * built with the API's URL, so it is declared after the API (infra/dashboard.ts) and hands its URL
 * in through `allowDashboardOrigin`; Pulumi waits for the promise, and the resources depend on each
 * other one way only (the API on the site's CloudFront distribution, the site's build on the API).
 */
let dashboardOriginDeclared: (origin: $util.Input<string>) => void = () => undefined;
const dashboardOrigin = new Promise<$util.Input<string>>((resolve) => {
  dashboardOriginDeclared = resolve;
});
export const allowDashboardOrigin = (origin: $util.Input<string>): void => dashboardOriginDeclared(origin);

export const api = new sst.aws.ApiGatewayV2('Api', {
  // The dashboard sends the key header and JSON bodies, with the methods of its pages (reads,
  // control and opt-outs by POST, an opt-out removed by DELETE). ERPs call server to server, and the
  // docs page is served from the API's own origin: neither needs CORS.
  cors: {
    allowOrigins: [$util.output(dashboardOrigin)],
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: ['content-type', 'x-billing-api-key'],
    maxAge: '1 day',
  },
  accessLog: { retention: logRetention },
  transform: {
    // A function, not an object: SST merges an object shallowly, which would drop the log destination.
    stage: (args, opts) => {
      args.accessLogSettings = $util
        .output(args.accessLogSettings)
        .apply((settings) => ({ destinationArn: settings?.destinationArn ?? '', format: ACCESS_LOG_FORMAT }));
      args.defaultRouteSettings = throttleSettings('erp');
      args.routeSettings = routeThrottles;
      opts.dependsOn = declaredRoutes;
      return undefined;
    },
  },
});

const { apiKey: AUTH, read: READ, write: WRITE } = TABLE_ACTIONS;

/**
 * What each route's function may touch (infra/runtime.ts FunctionAccess), by route name. `apiKey`
 * routes authenticate (AUTH: key lookup, hourly counter); `defers` routes also create and delete
 * schedules (schedulerPermissions). The docs, OpenAPI and metrics functions touch nothing; health
 * reads a tenant item and probes the work queue (its gateway probe finds no demo instance on AWS).
 */
export const API_ACCESS: Readonly<Record<string, FunctionAccess & { defers?: boolean }>> = {
  health: { table: ['dynamodb:GetItem'], probesWorkQueue: true },
  metrics: { table: [] },
  openapi: { table: [] },
  docs: { table: [] },
  // Accept a batch: idempotency, campaign, contacts, opt-out check (gsi1), work item, deferral.
  'send-overdue': { table: [...READ, ...WRITE], indexes: ['gsi1'], publishes: ['work'], defers: true },
  'send-upcoming': { table: [...READ, ...WRITE], indexes: ['gsi1'], publishes: ['work'], defers: true },
  'send-notification': { table: [...READ, ...WRITE], indexes: ['gsi1'], publishes: ['work'], defers: true },
  'queue-status': { table: [...AUTH, ...READ] },
  'get-campaign': { table: [...AUTH, ...READ] },
  // A phone's messages are listed through gsi1.
  'conversation-history': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'queue-contacts': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'list-queues': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'list-events': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  optouts: { table: [...AUTH, ...READ, ...WRITE], indexes: ['gsi1'] },
  // The reads behind the operator dashboard's pages (queues, contacts and opt-outs listed through
  // gsi1; a contact's conversation by phone through gsi1; the figures are one Query of the table).
  me: { table: [...AUTH, ...READ] },
  stats: { table: [...AUTH, ...READ] },
  instances: { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'contact-detail': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  // Pause, resume (republish or defer), cancel.
  'queue-control': { table: [...READ, ...WRITE], publishes: ['work'], defers: true },
  // Paid invoices: the open queues (gsi1), their contacts cancelled, `cancelled` callbacks announced.
  payments: { table: [...READ, ...WRITE], indexes: ['gsi1'], publishes: ['callbacks'] },
  // LGPD erasure: every queue (gsi1), contacts and events rewritten, a phone's messages (gsi1) deleted.
  'debtor-erasure': { table: [...READ, ...WRITE], indexes: ['gsi1'], publishes: ['callbacks'] },
  // Receipts, replies and connection events: callbacks out, parked queues (gsi1) back to work.
  'evolution-webhook': {
    table: [...READ, ...WRITE],
    indexes: ['gsi1'],
    publishes: ['work', 'callbacks'],
    defers: true,
  },
};

/** The access of a route's function; a route without a declaration fails the synth (and the deploy). */
const accessOf = (fn: string) => {
  const access = API_ACCESS[fn];
  if (!access) throw new Error(`infra/api.ts API_ACCESS declares nothing for route ${fn}`);
  const { defers, ...rest } = access;
  return defers
    ? { access: rest, environment: schedulerEnvironment, permissions: schedulerPermissions }
    : { access: rest };
};

/** The function of each route's entry point, by route name. */
export const apiFunctions = Object.fromEntries(
  DEPLOYED_ROUTES.map(({ name: fn }) => [
    fn,
    new sst.aws.Function(
      apiFunctionName(fn),
      appFunctionArgs(`functions/${fn}.handler`, {
        timeout: HTTP_TIMEOUT,
        ...sizing(fn),
        ...accessOf(fn),
        ...(INSTALL[fn] ? { install: INSTALL[fn] } : {}),
        ...FUNCTION_URL_ROUTES[fn],
      }),
    ),
  ]),
);

/** The Evolution webhook's function URL (the `evolutionWebhook` output): the base URL `instance webhook` registers. */
export const evolutionWebhookBaseUrl = (() => {
  const fn = apiFunctions['evolution-webhook'];
  if (!fn) throw new Error('infra/api.ts: no function for the evolution-webhook route');
  return fn.url;
})();

/** Answers the trailing-slash spellings (and unknown paths): no permission, nothing read. */
export const trailingSlashFunction = new sst.aws.Function(
  'ApiTrailingSlash',
  appFunctionArgs('functions/trailing-slash.handler', {
    timeout: '5 seconds',
    memory: '128 MB',
    access: { table: [] },
  }),
);

routesDeclared([
  ...DEPLOYED_ROUTES.flatMap((route) => {
    const fn = apiFunctions[route.name];
    if (!fn) throw new Error(`No function for route ${route.name}`);
    // An ARN as handler: SST wires the integration and invoke permission to the existing function.
    return route.operations.map((operation) => api.route(`${operation.method} ${operation.path}`, fn.arn));
  }),
  api.route('$default', trailingSlashFunction.arn),
]);
