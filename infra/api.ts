import { API_TIMEOUT_SECONDS } from '../lib/app/api-timeout.ts';
import { pathVariants } from '../lib/http/route.ts';
import { ROUTES } from '../lib/http/routes/index.ts';
import { type AppFunctionOptions, appFunctionArgs, type FunctionAccess, TABLE_ACTIONS } from './runtime.ts';
import { schedulerEnvironment, schedulerPermissions } from './scheduler.ts';
import { logRetention } from './stage.ts';

/**
 * The HTTP API (design section 6): every operation of the route list (lib/http/routes/index.ts), in
 * both spellings (API Gateway does not fold a trailing slash), each to its route's entry point
 * functions/<name>.handler. One
 * function per entry point, shared by its routes and spellings, so a route pair warms one function.
 * Authentication and the per-key hourly limit are ours (HTTP APIs have no API keys or usage plans).
 */

/**
 * Stage-wide throttle: a flood (a looping ERP integration) is cut at the edge before it costs Lambda
 * time; legitimate use is far below it (batches of up to 1000 contacts, status polls).
 */
export const API_THROTTLE = { burstLimit: 200, rateLimitPerSecond: 100 } as const;

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

export const api = new sst.aws.ApiGatewayV2('Api', {
  // Called server to server by ERPs; the docs page is served from the API's own origin.
  cors: false,
  accessLog: { retention: logRetention },
  transform: {
    stage: {
      defaultRouteSettings: {
        throttlingBurstLimit: API_THROTTLE.burstLimit,
        throttlingRateLimit: API_THROTTLE.rateLimitPerSecond,
      },
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
  'conversation-history': { table: [...AUTH, ...READ] },
  'queue-contacts': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'list-queues': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  'list-events': { table: [...AUTH, ...READ], indexes: ['gsi1'] },
  optouts: { table: [...AUTH, ...READ, ...WRITE], indexes: ['gsi1'] },
  // Pause, resume (republish or defer), cancel.
  'queue-control': { table: [...READ, ...WRITE], publishes: ['work'], defers: true },
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
  ROUTES.map(({ name: fn }) => [
    fn,
    new sst.aws.Function(
      apiFunctionName(fn),
      appFunctionArgs(`functions/${fn}.handler`, {
        timeout: HTTP_TIMEOUT,
        ...sizing(fn),
        ...accessOf(fn),
        ...(INSTALL[fn] ? { install: INSTALL[fn] } : {}),
      }),
    ),
  ]),
);

for (const route of ROUTES) {
  const fn = apiFunctions[route.name];
  if (!fn) throw new Error(`No function for route ${route.name}`);
  for (const operation of route.operations) {
    for (const path of pathVariants(operation.path)) {
      // An ARN as handler: SST wires the integration and invoke permission to the existing function.
      api.route(`${operation.method} ${path}`, fn.arn);
    }
  }
}
