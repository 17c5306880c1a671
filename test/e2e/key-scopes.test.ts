import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../lib/app/create-api-key.ts';
import { pathParameterNames } from '../../lib/http/route.ts';
import { OPERATIONS, type RouteOperation } from '../../lib/http/routes/index.ts';
import { API, postOneOverdue, startTestStack, type TestStack } from '../support/local-stack.ts';

/**
 * Key scopes and template-type limits hold on every `apiKey` route of the route list (driven by the
 * list, so a new route is covered the day it is added): a `read` key is refused (403) every operation
 * declared `send` or `control`; a key limited to `upcoming` gets the same 404 as an unknown id for an
 * `overdue` queue and never sees it in a listing; the tenant's full key still sees and controls it.
 */

const PHONE = '+5511988887777';

let s: TestStack;
let tenantId: string;
let fullKey: string;
let queueId: string;
let externalId: string;

const keyWith = async (options: { scopes?: string[]; types?: ('overdue' | 'upcoming' | 'notification')[] }) =>
  (
    await createApiKey(s.container, {
      tenantId,
      name: 'scoped',
      scopes: options.scopes,
      allowedTemplateTypes: options.types,
    })
  ).key;

/** A valid request of each operation, aimed at the tenant's overdue queue, campaign and phone. */
const requestOf = (operation: RouteOperation) => {
  const values: Record<string, string> = { queue_id: queueId, external_id: externalId, telefone: PHONE };
  const params = Object.fromEntries(
    pathParameterNames(operation.path).map((name) => [name, values[name] ?? '']),
  );
  const bodies: Record<string, unknown> = {
    POST: operation.path.includes('/send/')
      ? { external_id: `ext-${randomUUID()}`, contacts: [] }
      : operation.path.endsWith('/control')
        ? { action: 'pause' }
        : { telefone: '+5511977776666' },
  };
  return { params, body: bodies[operation.method] };
};

const call = async (operation: RouteOperation, key: string, query?: Record<string, string>) => {
  const { params, body } = requestOf(operation);
  const res = await s.invoke(operation.method, operation.path, params, {
    key,
    ...(query ? { query } : {}),
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, body: JSON.parse(res.body || '{}') };
};

const API_KEY_OPERATIONS = OPERATIONS.filter((o) => o.auth === 'apiKey');
const QUEUE_ROUTES = ['queue-status', 'queue-contacts', 'queue-control', 'get-campaign'];

beforeAll(async () => {
  s = await startTestStack({ roles: { api: true, worker: false } });
  const tenant = await s.createTenant();
  tenantId = tenant.tenantId;
  fullKey = tenant.key;
  externalId = `ext-${randomUUID()}`;
  queueId = await postOneOverdue(s, fullKey, externalId, PHONE);
});

afterAll(async () => {
  await s?.close();
});

describe('key scopes', () => {
  it('declares a scope on every apiKey operation of the route list', () => {
    // Assess
    expect(API_KEY_OPERATIONS.filter((o) => !o.scope).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    expect(new Set(API_KEY_OPERATIONS.map((o) => o.scope))).toEqual(new Set(['send', 'read', 'control']));
  });

  it('lets a read key call every read operation and refuses it every send and control one with 403', async () => {
    // Prepare
    const readKey = await keyWith({ scopes: ['read'] });
    // Act
    const outcomes = await Promise.all(
      API_KEY_OPERATIONS.map(async (operation) => ({
        operation: `${operation.method} ${operation.path}`,
        scope: operation.scope,
        ...(await call(operation, readKey)),
      })),
    );
    // Assess
    for (const outcome of outcomes) {
      if (outcome.scope === 'read') expect(outcome.status, outcome.operation).toBeLessThan(300);
      else {
        expect({ op: outcome.operation, status: outcome.status, code: outcome.body.code }).toEqual({
          op: outcome.operation,
          status: 403,
          code: 'KEY_SCOPE_NOT_ALLOWED',
        });
      }
    }
    // Nothing was paused by the refused control call.
    expect((await s.get(`${API}/queue/${queueId}/status`, { key: fullKey })).body.status).toBe('pending');
  });

  it('refuses a key scope nobody knows when the key is made', async () => {
    // Act
    const made = keyWith({ scopes: ['admin'] });
    // Assess
    await expect(made).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

describe('template-type limits', () => {
  it('answers 404 on every queue route for a queue of a type the key may not use, as for an unknown id', async () => {
    // Prepare
    const upcomingOnly = await keyWith({ types: ['upcoming'] });
    const operations = API_KEY_OPERATIONS.filter((o) => QUEUE_ROUTES.includes(o.route));
    expect(new Set(operations.map((o) => o.route))).toEqual(new Set(QUEUE_ROUTES));
    // Act
    const outcomes = await Promise.all(
      operations.map(async (o) => ({ o, ...(await call(o, upcomingOnly)) })),
    );
    // Assess
    const unknown = (route: string) => (route === 'get-campaign' ? 'CAMPAIGN_NOT_FOUND' : 'QUEUE_NOT_FOUND');
    for (const { o, status, body } of outcomes) {
      expect({ route: o.route, status, code: body.code }).toEqual({
        route: o.route,
        status: 404,
        code: unknown(o.route),
      });
    }
    expect((await s.get(`${API}/queue/${queueId}/status`, { key: fullKey })).status).toBe(200);
  });

  it('leaves the queue out of listings and event lookups for that key, and in for the full key', async () => {
    // Prepare
    const upcomingOnly = await keyWith({ types: ['upcoming'] });
    const listQueues = API_KEY_OPERATIONS.find((o) => o.route === 'list-queues');
    const listEvents = API_KEY_OPERATIONS.find((o) => o.route === 'list-events');
    if (!listQueues || !listEvents) throw new Error('list routes missing');
    // Act
    const limited = await call(listQueues, upcomingOnly);
    const full = await call(listQueues, fullKey);
    const events = await call(listEvents, upcomingOnly, { queue_id: queueId });
    // Assess
    expect(limited.status).toBe(200);
    expect(limited.body.queues.map((q: { id: string }) => q.id)).not.toContain(queueId);
    expect(full.body.queues.map((q: { id: string }) => q.id)).toContain(queueId);
    expect({ status: events.status, code: events.body.code }).toEqual({
      status: 404,
      code: 'QUEUE_NOT_FOUND',
    });
  });
});
