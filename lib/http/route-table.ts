/**
 * Every HTTP route of the product, as data: the local gateway, the OpenAPI document and the
 * infra (API Gateway routes) all read this one list, so they cannot drift apart.
 * `fn` names the route's factory `lib/lambda/routes/<fn>.ts` (exports `route`) and its Lambda
 * entry point `functions/<fn>.ts` (exports `handler`).
 * Paths are declared without a trailing slash; both spellings are served.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  path: string;
  fn: string;
  /** Needs an API key (`X-Billing-API-Key`). */
  authenticated: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', fn: 'health', authenticated: false },
  { method: 'GET', path: '/metrics', fn: 'metrics', authenticated: false },
  { method: 'POST', path: '/api/v1/billing/send/overdue', fn: 'send-overdue', authenticated: true },
  { method: 'POST', path: '/api/v1/billing/send/upcoming', fn: 'send-upcoming', authenticated: true },
  { method: 'POST', path: '/api/v1/billing/send/notification', fn: 'send-notification', authenticated: true },
  { method: 'GET', path: '/api/v1/billing/queue/{queue_id}/status', fn: 'queue-status', authenticated: true },
  {
    method: 'POST',
    path: '/api/v1/billing/queue/{queue_id}/control',
    fn: 'queue-control',
    authenticated: true,
  },
  {
    method: 'GET',
    path: '/api/v1/billing/queue/{queue_id}/contacts',
    fn: 'queue-contacts',
    authenticated: true,
  },
  { method: 'GET', path: '/api/v1/billing/queues', fn: 'list-queues', authenticated: true },
  { method: 'GET', path: '/api/v1/billing/events', fn: 'list-events', authenticated: true },
  { method: 'GET', path: '/api/v1/billing/campaigns/{external_id}', fn: 'get-campaign', authenticated: true },
  {
    method: 'GET',
    path: '/api/v1/billing/conversations/{telefone}',
    fn: 'conversation-history',
    authenticated: true,
  },
  { method: 'GET', path: '/api/v1/billing/optouts', fn: 'optouts', authenticated: true },
  { method: 'POST', path: '/api/v1/billing/optouts', fn: 'optouts', authenticated: true },
  { method: 'DELETE', path: '/api/v1/billing/optouts/{telefone}', fn: 'optouts', authenticated: true },
  // Evolution's webhooks: authenticated by the instance's webhook secret, not by an API key.
  {
    method: 'POST',
    path: '/api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}',
    fn: 'evolution-webhook',
    authenticated: false,
  },
  {
    method: 'POST',
    path: '/api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}/{event}',
    fn: 'evolution-webhook',
    authenticated: false,
  },
  { method: 'GET', path: '/api/v1/billing/openapi.json', fn: 'openapi', authenticated: false },
  { method: 'GET', path: '/api/v1/billing/docs', fn: 'docs', authenticated: false },
  { method: 'GET', path: '/api/v1/billing/docs/{asset}', fn: 'docs', authenticated: false },
];

/** Both spellings API Gateway must declare for a path (it does not fold trailing slashes). */
export const pathVariants = (path: string): string[] => (path === '/' ? [path] : [path, `${path}/`]);
