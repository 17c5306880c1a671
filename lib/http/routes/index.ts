import type { Container } from '../../composition.ts';
import type { HttpRoute, Operation } from '../route.ts';
import { contactDetailRoute } from './contact-detail.ts';
import { conversationHistoryRoute } from './conversation-history.ts';
import { dashboardRoute } from './dashboard.ts';
import { debtorErasureRoute } from './debtor-erasure.ts';
import { docsRoute } from './docs.ts';
import { evolutionWebhookRoute } from './evolution-webhook.ts';
import { getCampaignRoute } from './get-campaign.ts';
import { healthRoute } from './health.ts';
import { instancesRoute } from './instances.ts';
import { listEventsRoute } from './list-events.ts';
import { listQueuesRoute } from './list-queues.ts';
import { meRoute } from './me.ts';
import { metricsRoute } from './metrics.ts';
import { openApiRoute } from './openapi.ts';
import { optOutsRoute } from './optouts.ts';
import { paymentsRoute } from './payments.ts';
import { queueContactsRoute } from './queue-contacts.ts';
import { queueControlRoute } from './queue-control.ts';
import { queueStatusRoute } from './queue-status.ts';
import { sendNotificationRoute } from './send-notification.ts';
import { sendOverdueRoute } from './send-overdue.ts';
import { sendUpcomingRoute } from './send-upcoming.ts';
import { statsRoute } from './stats.ts';

/**
 * Every HTTP route of the product, each declared once in its module lib/http/routes/<name>.ts
 * (method, path, auth, request and response schemas, error codes, handler). This one list drives
 * the local gateway (lib/local/local-stack.ts), the API Gateway routes and their functions
 * (infra/api.ts), and the OpenAPI document (lib/http/openapi-document.ts), so they cannot drift
 * apart. Each route's Lambda entry point is functions/<name>.ts, which wraps that module
 * (test/unit/route-entry-points.test.ts holds the list and functions/ to each other).
 * Paths are declared without a trailing slash; both spellings are served. A `localOnly` route (the
 * dashboard) is served by the local gateway and documented, but has no function on AWS.
 */
export const ROUTES: readonly HttpRoute<Container>[] = [
  healthRoute,
  metricsRoute,
  sendOverdueRoute,
  sendUpcomingRoute,
  sendNotificationRoute,
  queueStatusRoute,
  queueControlRoute,
  queueContactsRoute,
  contactDetailRoute,
  listQueuesRoute,
  listEventsRoute,
  getCampaignRoute,
  conversationHistoryRoute,
  optOutsRoute,
  paymentsRoute,
  debtorErasureRoute,
  meRoute,
  statsRoute,
  instancesRoute,
  evolutionWebhookRoute,
  openApiRoute,
  docsRoute,
  dashboardRoute,
];

/** An operation of the list, with the name of the route (and entry point) that serves it. */
export type RouteOperation = Operation<Container> & { route: string };

/** Every operation of the list, flattened. */
export const OPERATIONS: readonly RouteOperation[] = ROUTES.flatMap((route) =>
  route.operations.map((operation) => ({ ...operation, route: route.name })),
);

/** The routes that are a Lambda function behind an API Gateway route on AWS (infra/api.ts). */
export const DEPLOYED_ROUTES: readonly HttpRoute<Container>[] = ROUTES.filter((route) => !route.localOnly);

/** The operations of the deployed routes: the API Gateway route keys. */
export const DEPLOYED_OPERATIONS: readonly RouteOperation[] = OPERATIONS.filter((operation) =>
  DEPLOYED_ROUTES.some((route) => route.name === operation.route),
);
