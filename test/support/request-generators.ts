import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { OPERATIONS, type RouteOperation } from '../../lib/http/routes/index.ts';

/**
 * Generators of arbitrary HTTP requests over every route of lib/http/routes/index.ts, and a raw
 * sender, shared by the no-5xx property test (test/e2e/no-5xx-property.test.ts) and the fuzz
 * command (`npm run fuzz`, scripts/fuzz.ts). Every route, every method, valid and invalid keys,
 * path parameters of odd shapes, query strings, and bodies of any kind: valid-looking ones, random
 * JSON, JSON nested far deeper than anyone writes, wrong types, strings right around the size
 * limit, non-JSON, wrong content types, nothing at all.
 */

/** One request exactly as it goes on the wire. */
export interface FuzzRequest {
  method: string;
  /** Path and query as written on the request line (already percent-encoded). */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The route template it was generated for (the answer may still be 404/405). */
  route: string;
}

/** What the generators may use to get past the outer checks of the stack under test. */
export interface FuzzTargets {
  /** A valid API key; without one, authenticated routes only ever see the key check. */
  apiKey?: string;
  /** Queue ids visible to that key (status, control, contacts then reach real data). */
  queueIds?: string[];
  /** An instance and its webhook secret, so webhooks get past authentication. */
  webhook?: { tenantId: string; instanceId: string; secret: string };
  /** The stack's MAX_BODY_BYTES: huge bodies are generated just under and just over it. */
  maxBodyBytes: number;
}

export interface FuzzAnswer {
  /** HTTP status, or null when no answer came (connection reset, timeout). */
  status: number | null;
  /** The first part of the answer body (or the network error). */
  body: string;
}

const API_KEY_HEADER = 'x-billing-api-key';
const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';
const WEBHOOK_ROUTE_PREFIX = '/api/v1/billing/webhooks/evolution/';
const SEND_ROUTE_PREFIX = '/api/v1/billing/send/';
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/**
 * The only 5xx a route may answer to a request: the webhook's documented 503 WEBHOOK_RETRY_LATER
 * (an event that arrived before what it refers to; Evolution retries it). It is part of the
 * webhook contract, not a server fault. Anything else at 500 or above, or no answer, is a bug.
 */
export const isServerFault = (request: FuzzRequest, answer: FuzzAnswer): boolean => {
  if (answer.status === null) return true;
  if (answer.status < 500) return false;
  const retryLater =
    answer.status === 503 &&
    request.route.startsWith(WEBHOOK_ROUTE_PREFIX) &&
    answer.body.includes('"WEBHOOK_RETRY_LATER"');
  return !retryLater;
};

// ---------------------------------------------------------------------------------------------
// Text pieces

/** Percent-encodes every UTF-8 byte that is not unreserved (lone surrogates become U+FFFD). */
const encode = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

const anyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** Header values must be visible ASCII (node refuses others before sending). */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const uuid = fc.uuid();

/** A path segment as sent: plausible ids, encoded junk, and raw tricks (broken escapes, dots). */
const pathSegment = (targets: FuzzTargets, name: string): fc.Arbitrary<string> => {
  const plausible: string[] = ['demo', '5511987654321', encode('+5511987654321'), 'messages-update'];
  if (name === 'tenant_id' && targets.webhook) plausible.push(encode(targets.webhook.tenantId));
  if (name === 'instance_id' && targets.webhook) plausible.push(encode(targets.webhook.instanceId));
  const queueIds = targets.queueIds ?? [];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...plausible), weight: 3 },
    { arbitrary: uuid, weight: 2 },
    ...(queueIds.length > 0 && name === 'queue_id'
      ? [{ arbitrary: fc.constantFrom(...queueIds), weight: 4 }]
      : []),
    { arbitrary: anyText.filter((t) => t !== '').map(encode), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%C0%AF',
        '%00',
        '%2F',
        '..',
        '.',
        ';',
        '~',
        '@',
        '%7Bqueue_id%7D',
        "'%20OR%201=1--",
        '-1',
        '0',
        '1e999',
        'null',
        '__proto__',
      ),
      weight: 3,
    },
    { arbitrary: fc.integer({ min: 101, max: 3000 }).map((n) => 'a'.repeat(n)), weight: 1 },
  );
};

const QUERY_KEYS = ['dry_run', 'limit', 'cursor', 'status', 'since', 'queue_id', 'page', ''];
const queryValue = fc.oneof(
  fc.constantFrom(
    'true',
    '1',
    '0',
    'false',
    'yes',
    '-1',
    '101',
    '20',
    '1.5',
    '1e3',
    'NaN',
    '',
    'running',
    'sent',
    'completed',
    '2026-12-16T00:00:00Z',
    '2026-13-45',
    'eyJrIjoiIn0',
    'eyJvIjp7fX0',
    'bm90IGpzb24',
  ),
  uuid,
  anyText,
  fc.integer({ min: 2049, max: 3000 }).map((n) => 'c'.repeat(n)),
);

/** A query string: none, known keys with odd values, repeated keys, raw junk. */
const queryString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant(''), weight: 4 },
  {
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), anyText), queryValue), {
        minLength: 1,
        maxLength: 4,
      })
      .map((pairs) => `?${pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`),
    weight: 5,
  },
  {
    arbitrary: fc.constantFrom('?', '?&&==', '?limit', '?limit=%', '?%zz=1', '?dry_run=true&dry_run=0'),
    weight: 1,
  },
);

// ---------------------------------------------------------------------------------------------
// Bodies

const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  anyText,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', ' ', '\u0000', '{{nome_cliente}}', '1e999', '-1'),
);

const contact = fc.record(
  {
    nome_cliente: fc.oneof(fc.constantFrom('João Silva', 'Zoë 🚀 Ltda'), anyText),
    telefone: fc.oneof(fc.constantFrom('+5511987654321', '(21) 99876-5432', '11 3333-4444', 'abc'), anyText),
    valor: fc.oneof(fc.constantFrom('R$ 150,00', '150'), fc.double({ noNaN: true, noDefaultInfinity: true })),
    data_vencimento: fc.constantFrom('01/12/2026', '2027-01-31', '31/02/2026', ''),
    mensagem: fc.constantFrom('Seu boleto está disponível.', ''),
    numero_fatura: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: ['nome_cliente', 'telefone'] },
);

const sendBody = fc.record(
  {
    external_id: fc.oneof(fc.constantFrom('fuzz-1', 'fuzz-2', 'fuzz-3'), fc.string({ maxLength: 20 })),
    contacts: fc.array(contact, { minLength: 0, maxLength: 3 }),
    callback_url: fc.constantFrom('https://meu-erp.com/webhooks/billing', 'http://127.0.0.1/x', ''),
    callback_events: fc.subarray(['sent', 'delivered', 'read', 'failed', 'replied', 'queue.completed', 'x']),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  },
  { requiredKeys: ['contacts'] },
);

const webhookBody = fc.record(
  {
    event: fc.constantFrom(
      'messages.update',
      'messages.upsert',
      'send.message',
      'connection.update',
      'MESSAGES_UPDATE',
      'unknown.event',
    ),
    instance: fc.constantFrom('demo', 'other'),
    data: fc.oneof(
      fc.record({
        keyId: fc.oneof(fc.constant('3EB0ABCDEF0123456789'), fc.string({ maxLength: 24 })),
        remoteJid: fc.constantFrom('5511987654321@s.whatsapp.net', '123@lid', ''),
        fromMe: fc.boolean(),
        status: fc.constantFrom(
          'ERROR',
          'PENDING',
          'SERVER_ACK',
          'DELIVERY_ACK',
          'READ',
          'PLAYED',
          'DELETED',
        ),
      }),
      fc.record({
        key: fc.record({
          remoteJid: fc.constantFrom('5511987654321@s.whatsapp.net', '1234567@lid'),
          fromMe: fc.boolean(),
          id: fc.string({ maxLength: 24 }),
        }),
        message: fc.record({ conversation: fc.oneof(fc.constantFrom('SAIR', 'pago', ''), anyText) }),
        messageType: fc.constant('conversation'),
      }),
      fc.record({
        instance: fc.constant('demo'),
        state: fc.constantFrom('open', 'close', 'connecting', 'x'),
      }),
      junkValue,
    ),
    date_time: fc.constantFrom('2026-12-16T12:20:00.000Z', 'ontem'),
    apikey: fc.constantFrom(null, 'k', 42),
    sender: fc.constantFrom('5511999999999@s.whatsapp.net', null),
  },
  { requiredKeys: ['event'] },
);

/** A plausible body for the route, before any damage. */
const shapedBody = (route: RouteOperation): fc.Arbitrary<Record<string, unknown>> => {
  if (route.path.startsWith(SEND_ROUTE_PREFIX)) return sendBody;
  if (route.path.startsWith(WEBHOOK_ROUTE_PREFIX)) return webhookBody;
  if (route.path.endsWith('/control'))
    return fc.record({
      action: fc.oneof(fc.constantFrom('pause', 'resume', 'cancel', 'PAUSE', ''), junkValue),
    });
  if (route.path.endsWith('/optouts'))
    return fc.record(
      { telefone: fc.oneof(fc.constantFrom('+5511987654321', '11987654321', ''), anyText), motivo: anyText },
      { requiredKeys: [] },
    );
  return fc.dictionary(fc.string({ maxLength: 8 }), junkValue, { maxKeys: 3 });
};

/** Sets an own key, even `__proto__` (plain assignment would change the prototype instead). */
const setKey = (target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> => {
  const out = { ...target };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
};

const wrongTypes = (route: RouteOperation) =>
  fc
    .tuple(
      shapedBody(route),
      fc.oneof(
        fc.constantFrom('contacts', 'action', 'telefone', 'event', 'data', 'metadata', 'external_id'),
        fc.constantFrom('__proto__', 'constructor', ''),
        fc.string({ maxLength: 10 }),
      ),
      junkValue,
    )
    .map(([body, key, value]) => setKey(body, key, value));

/** `depth` levels of arrays, objects or both, around `inner`; built as text, no recursion. */
const nest = (depth: number, kind: 'array' | 'object' | 'mixed', inner: string): string => {
  if (kind === 'array') return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
  if (kind === 'object') return `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
  const half = Math.floor(depth / 2);
  return `${'{"a":['.repeat(half)}${inner}${']}'.repeat(half)}`;
};

/**
 * JSON nested from a little below the service's limit to as deep as the size limit allows, alone
 * or as the metadata / data / action of an otherwise plausible body (where recursive code would
 * meet it), sometimes never closed.
 */
const deepBody = (route: RouteOperation, maxBodyBytes: number): fc.Arbitrary<string> => {
  const maxDepth = Math.max(100, Math.floor((maxBodyBytes - 512) / 6));
  return fc
    .record({
      depth: fc.oneof(
        fc.integer({ min: 50, max: 80 }),
        fc.integer({ min: 1000, max: 12_000 }),
        fc.integer({ min: 1000, max: maxDepth }),
      ),
      kind: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
      where: fc.constantFrom('alone', 'inside', 'inside', 'unclosed'),
      base: shapedBody(route),
    })
    .map(({ depth, kind, where, base }) => {
      if (where === 'unclosed') return '['.repeat(depth);
      const deep = nest(depth, kind, '1');
      if (where === 'alone') return deep;
      const field = route.path.startsWith(SEND_ROUTE_PREFIX)
        ? 'metadata'
        : route.path.startsWith(WEBHOOK_ROUTE_PREFIX)
          ? 'data'
          : 'action';
      const text = JSON.stringify(setKey(base, field, 0));
      // The placeholder 0 is the field's value: swap it for the deep text without re-serializing.
      return text.replace(`${JSON.stringify(field)}:0`, `${JSON.stringify(field)}:${deep}`);
    });
};

/** A JSON body whose size lands within a few bytes of the limit, on either side. */
const nearLimitBody = (route: RouteOperation, maxBodyBytes: number): fc.Arbitrary<string> =>
  fc
    .record({
      delta: fc.integer({ min: -64, max: 64 }),
      base: shapedBody(route),
      field: fc.constantFrom('x', 'metadata', 'motivo'),
    })
    .map(({ delta, base, field }) => {
      const skeleton = JSON.stringify(setKey(base, field, ''));
      const fill = Math.max(0, maxBodyBytes + delta - Buffer.byteLength(skeleton, 'utf8'));
      return skeleton.replace(
        `${JSON.stringify(field)}:""`,
        `${JSON.stringify(field)}:"${'x'.repeat(fill)}"`,
      );
    });

const notJson = fc.oneof(
  fc.constantFrom(
    'undefined',
    'NaN',
    '{a:1}',
    "{'a':1}",
    '{"a":1,}',
    '[1,]',
    '\uFEFF{"contacts":[]}',
    '{"a":"\\ud800"}',
    '{"a":1}{"b":2}',
    '"',
    '{',
    '}',
    'action=pause',
    '<xml/>',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const bodyText = (route: RouteOperation, maxBodyBytes: number): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constant(''), weight: 1 },
    { arbitrary: shapedBody(route).map((b) => JSON.stringify(b)), weight: 6 },
    { arbitrary: wrongTypes(route).map((b) => JSON.stringify(b)), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: deepBody(route, maxBodyBytes), weight: 4 },
    { arbitrary: nearLimitBody(route, maxBodyBytes), weight: 1 },
    { arbitrary: notJson, weight: 2 },
  );

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/vnd.api+json',
      'application/jsonx',
      'text/plain',
      'text/html; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      ';;;',
      '',
    ),
    weight: 3,
  },
);

// ---------------------------------------------------------------------------------------------
// Requests

const keyHeader = (apiKey: string | undefined): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    ...(apiKey ? [{ arbitrary: fc.constant<string | undefined>(apiKey), weight: 8 }] : []),
    { arbitrary: fc.constant(undefined), weight: 1 },
    {
      arbitrary: fc.oneof(
        headerText(60),
        fc.constantFrom('billing_', 'billing_x', ` ${apiKey ?? 'k'} `, (apiKey ?? 'k').toUpperCase()),
        fc.integer({ min: 1000, max: 4000 }).map((n) => `billing_${'k'.repeat(n)}`),
      ),
      weight: 1,
    },
  );

const webhookAuth = (targets: FuzzTargets): fc.Arbitrary<Record<string, string>> =>
  fc.oneof(
    ...(targets.webhook
      ? [{ arbitrary: fc.constant({ [WEBHOOK_SECRET_HEADER]: targets.webhook.secret }), weight: 6 }]
      : []),
    { arbitrary: fc.constant({}), weight: 1 },
    { arbitrary: headerText(40).map((v) => ({ [WEBHOOK_SECRET_HEADER]: v })), weight: 1 },
    {
      arbitrary: fc
        .constantFrom('Bearer', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.e30.', 'Basic x')
        .map((v) => ({ authorization: v })),
      weight: 1,
    },
  );

/** A request for one route: its method (sometimes another), path, query, headers and body. */
export const routeRequest = (route: RouteOperation, targets: FuzzTargets): fc.Arbitrary<FuzzRequest> => {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const isWebhook = route.path.startsWith(WEBHOOK_ROUTE_PREFIX);
  const webhookPath =
    isWebhook && targets.webhook
      ? fc.constant([encode(targets.webhook.tenantId), encode(targets.webhook.instanceId)])
      : undefined;
  return fc
    .record({
      method: fc.oneof(
        { arbitrary: fc.constant(route.method as string), weight: 8 },
        { arbitrary: fc.constantFrom(...METHODS), weight: 1 },
      ),
      params: fc.tuple(...names.map((name) => pathSegment(targets, name))),
      realInstance: webhookPath ? fc.option(webhookPath, { freq: 2 }) : fc.constant(null),
      trailingSlash: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      query: queryString,
      key: keyHeader(targets.apiKey),
      webhookHeaders: isWebhook ? webhookAuth(targets) : fc.constant({}),
      contentType,
      body: bodyText(route, targets.maxBodyBytes),
    })
    .map(({ method, params, realInstance, trailingSlash, query, key, webhookHeaders, contentType, body }) => {
      const values = [...params] as string[];
      // Most webhooks go to the real instance (its secret is then right), the rest anywhere.
      if (realInstance) values.splice(0, 2, ...realInstance);
      let i = 0;
      const path = route.path.replace(/\{\w+\}/g, () => values[i++] ?? '');
      const headers: Record<string, string> = { ...webhookHeaders };
      if (key !== undefined) headers[API_KEY_HEADER] = key;
      if (body !== undefined && contentType !== undefined) headers['content-type'] = contentType;
      return {
        method,
        path: `${path}${trailingSlash ? '/' : ''}${query}`,
        headers,
        body: method === 'HEAD' ? undefined : body,
        route: route.path,
      };
    })
    .filter((request) => headBytes(request) < MAX_HEAD_BYTES);
};

/**
 * Request line plus headers stay under this: node's server (the local stand-in for API Gateway)
 * answers a head over 16 KB with its own 431 and closes the socket, possibly while the client is
 * still writing the body, which reads as "no answer". That limit is the stand-in's, not ours.
 */
const MAX_HEAD_BYTES = 12_000;

const headBytes = (request: FuzzRequest): number =>
  request.path.length +
  Object.entries(request.headers).reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0);

/** A request for any route, each route as likely as the others. */
export const anyRequest = (targets: FuzzTargets): fc.Arbitrary<FuzzRequest> =>
  fc.oneof(...OPERATIONS.map((route) => routeRequest(route, targets)));

/** One HTTP request, sent as generated (no client-side normalization of the path). */
export const sendFuzzRequest = async (
  baseUrl: string,
  request: FuzzRequest,
  options: { agent?: Agent; timeoutMs?: number } = {},
): Promise<FuzzAnswer> => {
  const first = await sendOnce(baseUrl, request, options);
  // A kept-alive socket the server closed just as it was reused fails before the server saw the
  // request (node's documented race, `reusedSocket`): that is the client's doing, so it is sent
  // again once on a new connection.
  return first.reusedSocketReset ? sendOnce(baseUrl, request, { ...options, agent: false }) : first;
};

const sendOnce = (
  baseUrl: string,
  request: FuzzRequest,
  options: { agent?: Agent | false; timeoutMs?: number },
): Promise<FuzzAnswer & { reusedSocketReset?: boolean }> => {
  const url = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  // Node frames a GET/DELETE/OPTIONS body by nothing unless told its length: the server would
  // read the body as the next request.
  const headers =
    body === undefined ? request.headers : { ...request.headers, 'content-length': String(body.length) };
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers,
        agent: options.agent,
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < 4096) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? null,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 4096),
          }),
        );
        res.on('error', (error) => resolve({ status: null, body: String(error) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        status: null,
        body: String(error),
        reusedSocketReset:
          req.reusedSocket && (error.code === 'ECONNRESET' || error.message === 'socket hang up'),
      }),
    );
    req.end(body);
  });
};

/** A keep-alive agent for many requests to one stack. */
export const fuzzAgent = (): Agent => new Agent({ keepAlive: true, maxSockets: 16 });

/**
 * A request as a reader can replay it: method, path, headers, and the body (long ones cut in the
 * middle). The given secrets (the valid key, the webhook secret) are shown as `<secret>`.
 */
export const describeRequest = (
  request: FuzzRequest,
  answer?: FuzzAnswer,
  secrets: string[] = [],
): string => {
  const body = request.body;
  const shown =
    body === undefined
      ? '(no body)'
      : body.length > 400
        ? `${JSON.stringify(body.slice(0, 200))} ... ${JSON.stringify(body.slice(-100))} (${Buffer.byteLength(body, 'utf8')} bytes)`
        : JSON.stringify(body);
  const headers = Object.entries(request.headers)
    .map(([k, v]) => [k, secrets.includes(v) ? '<secret>' : v])
    .map(([k, v = '']) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}... (${v.length} chars)` : v}`)
    .join('; ');
  const answered = answer ? ` -> ${answer.status ?? 'no answer'} ${answer.body.slice(0, 300)}` : '';
  return `${request.method} ${request.path.length > 300 ? `${request.path.slice(0, 300)}...` : request.path} [${headers}] ${shown}${answered}`;
};
