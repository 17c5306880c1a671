import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addInstance } from '../../lib/app/add-instance.ts';
import { pathParameterNames } from '../../lib/http/route.ts';
import { OPERATIONS, type RouteOperation } from '../../lib/http/routes/index.ts';
import { type Synth, statementsOf, synthesizeInfra } from '../support/infra-checks.ts';
import { postOneOverdue, startTestStack, type TestStack } from '../support/local-stack.ts';

/**
 * The IAM grants of the API functions (infra/api.ts API_ACCESS, synthesized) against what each
 * route really sends to DynamoDB: every `apiKey` operation runs in-process on the local stack with
 * the document client's calls recorded, and each DynamoDB action and index it used must be granted
 * to its route's function. A grant that misses an action would be an AccessDenied in production.
 */

/** lib-dynamodb command class -> the IAM action it needs. */
const ACTION_OF: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
  TransactWriteCommand: 'dynamodb:TransactWriteItems',
  TransactGetCommand: 'dynamodb:TransactGetItems',
};

const PHONE = '+5511988887777';
/** Added by the opt-out POST, removed by the DELETE that runs after it. */
const OPT_OUT_PHONE = '+5511966665555';
/** Each has a reminder of its own: one is paid (POST /payments), the other erased (DELETE /debtors). */
const PAID_PHONE = '+5511955554444';
const ERASED_PHONE = '+5511944443333';

const functionOf = (route: string) =>
  `Api${route
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;

let s: TestStack;
let synth: Synth;
let key: string;
let queueId: string;
let externalId: string;
/** What the request in flight sent to DynamoDB: actions, and `index:<name>` for index queries. */
let recorded: Set<string>;

beforeAll(async () => {
  synth = await synthesizeInfra('dev-alice');
  s = await startTestStack({ roles: { api: true, worker: false } });
  const dynamo = s.container.dynamo;
  const send = dynamo.send.bind(dynamo) as (command: unknown) => Promise<unknown>;
  recorded = new Set();
  (dynamo as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    const name = (command as { constructor: { name: string } }).constructor.name;
    recorded.add(ACTION_OF[name] ?? `unknown:${name}`);
    const index = (command as { input?: { IndexName?: string } }).input?.IndexName;
    if (index) recorded.add(`index:${index}`);
    return send(command);
  };
  const tenant = await s.createTenant();
  key = tenant.key;
  externalId = `ext-${randomUUID()}`;
  queueId = await postOneOverdue(s, key, externalId, PHONE);
  await postOneOverdue(s, key, `ext-${randomUUID()}`, PAID_PHONE);
  await postOneOverdue(s, key, `ext-${randomUUID()}`, ERASED_PHONE);
}, 120_000);

afterAll(async () => {
  await s?.close();
});

/** A request of each operation that does its real work (a new batch, a pause, a new opt-out). */
const requestOf = (operation: RouteOperation) => {
  const telefone = operation.path.includes('/optouts')
    ? OPT_OUT_PHONE
    : operation.path.includes('/debtors/')
      ? ERASED_PHONE
      : PHONE;
  const values: Record<string, string> = { queue_id: queueId, external_id: externalId, telefone };
  const params = Object.fromEntries(pathParameterNames(operation.path).map((n) => [n, values[n] ?? '']));
  if (operation.method !== 'POST') return { params };
  const body = operation.path.includes('/send/')
    ? {
        external_id: `ext-${randomUUID()}`,
        contacts: [
          {
            nome_cliente: 'João Lima',
            telefone: '+5511977776666',
            valor: 'R$ 10,00',
            // Overdue bills are past due, the others are not.
            data_vencimento: operation.path.endsWith('/overdue') ? '01/12/2026' : '20/12/2026',
            numero_fatura: 'NF-2',
            mensagem: 'Aviso',
          },
        ],
      }
    : operation.path.endsWith('/control')
      ? { action: 'pause' }
      : operation.path.endsWith('/payments')
        ? { numero_fatura: 'NF-1', telefone: PAID_PHONE }
        : { telefone: OPT_OUT_PHONE };
  return { params, body };
};

/** What the synthesized grants of `fn` leave out of what was recorded. */
const notGranted = (fn: string) => {
  const statements = statementsOf(synth, fn);
  const granted = new Set(statements.flatMap((st) => st.actions));
  const indexes = statements
    .filter((st) => st.actions.includes('dynamodb:Query'))
    .flatMap((st) => st.resources)
    .filter((r) => r.includes('/index/'))
    .map((r) => `index:${r.split('/index/')[1]}`);
  return [...recorded].filter((used) =>
    used.startsWith('index:') ? !indexes.includes(used) : !granted.has(used),
  );
};

describe('API function grants cover what each route does', () => {
  for (const operation of OPERATIONS.filter((o) => o.auth === 'apiKey')) {
    it(`grants ${functionOf(operation.route)} every DynamoDB action and index ${operation.method} ${operation.path} uses`, async () => {
      // Prepare
      const { params, body } = requestOf(operation);
      recorded.clear();
      // Act
      const res = await s.invoke(operation.method, operation.path, params, {
        key,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // Assess
      expect(res.statusCode, res.body).toBeLessThan(300);
      expect(recorded.size).toBeGreaterThan(0);
      expect(notGranted(functionOf(operation.route))).toEqual([]);
    });
  }

  it('grants ApiEvolutionWebhook what a connection event does (parked queues found through gsi1)', async () => {
    // Prepare
    const secret = 'whsec-route-permissions-0123456789';
    const { tenantId } = await s.createTenant();
    await addInstance(s.container, {
      tenantId,
      id: 'perm',
      instanceName: 'perm',
      baseUrl: 'http://127.0.0.1:9',
      credentialRef: 'plain:k',
      webhookSecret: secret,
    });
    const webhook = OPERATIONS.find((o) => o.auth === 'webhookSecret' && !o.path.endsWith('{event}'));
    if (!webhook) throw new Error('no webhook route');
    recorded.clear();
    // Act
    const res = await s.invoke(
      webhook.method,
      webhook.path,
      { tenant_id: tenantId, instance_id: 'perm' },
      {
        key: null,
        headers: { 'x-webhook-secret': secret },
        body: JSON.stringify({ event: 'connection.update', instance: 'perm', data: { state: 'open' } }),
      },
    );
    // Assess
    expect(res.statusCode, res.body).toBeLessThan(300);
    expect(recorded.size).toBeGreaterThan(0);
    expect(notGranted(functionOf(webhook.route))).toEqual([]);
  });
});
