import { describe, expect, it } from 'vitest';
import { createEvolutionGateway } from '../../lib/adapters/gateway/evolution-gateway.ts';
import type { GatewayTarget, SendOutcome } from '../../lib/ports/whatsapp-gateway.ts';

const target: GatewayTarget = {
  baseUrl: 'https://evo.example.com/',
  instanceName: 'loja 1',
  apiKey: 'secret-key-123',
};

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that records its calls and answers with `reply` (the only mock in the gateway tests). */
const fakeFetch = (reply: () => Promise<Response> | Response) => {
  const calls: Call[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return reply();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
};

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A proxy's error page. */
const html = (status: number, page: string): Response =>
  new Response(page, { status, headers: { 'content-type': 'text/html' } });

const rejectWith = (error: unknown) => () => Promise.reject(error);

/** undici's shape: `TypeError('fetch failed')` with the socket error as `cause`. */
const fetchFailed = (code: string): TypeError =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });

const send = async (reply: () => Promise<Response> | Response): Promise<SendOutcome> => {
  const { fetch } = fakeFetch(reply);
  return createEvolutionGateway({ fetch }).sendText(target, '5511987654321', 'Olá');
};

describe('evolutionGateway.sendText request', () => {
  it('posts JSON with the apikey header and the number as a digit string', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(() =>
      json(201, { key: { id: '3EB0AA', remoteJid: 'x@s.whatsapp.net' } }),
    );
    const gateway = createEvolutionGateway({ fetch });

    // Act
    await gateway.sendText(target, '5511987654321', 'Olá, Maria');

    // Assess
    expect(calls).toHaveLength(1);
    const call = calls[0] as Call;
    expect(call.url).toBe('https://evo.example.com/message/sendText/loja%201');
    expect(call.init.method).toBe('POST');
    const headers = new Headers(call.init.headers);
    expect(headers.get('apikey')).toBe('secret-key-123');
    expect(headers.get('content-type')).toBe('application/json');
    const body = JSON.parse(String(call.init.body)) as Record<string, unknown>;
    expect(body).toEqual({ number: '5511987654321', text: 'Olá, Maria' });
    expect(typeof body.number).toBe('string');
    expect(call.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('sends the typing delay when one is configured', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(() =>
      json(201, { key: { id: '3EB0AA', remoteJid: 'x@s.whatsapp.net' } }),
    );
    const gateway = createEvolutionGateway({ fetch, delayMs: 1200, timeoutMs: 10_000 });

    // Act
    await gateway.sendText(target, '5511987654321', 'Olá');

    // Assess
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      number: '5511987654321',
      text: 'Olá',
      delay: 1200,
    });
  });

  it('refuses a timeout that does not cover the delay plus the send', () => {
    // Prepare
    const build = () => createEvolutionGateway({ delayMs: 3000, timeoutMs: 8000 });

    // Act + Assess
    expect(build).toThrow(/timeoutMs \(8000\) must exceed delayMs \+ 5000/);
    expect(() => createEvolutionGateway({ delayMs: 3000, timeoutMs: 8001 })).not.toThrow();
  });

  it('returns permanent without calling the gateway when the number is not digits', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(() => json(201, {}));

    // Act
    const outcome = await createEvolutionGateway({ fetch }).sendText(target, '+55 11 98765-4321', 'Olá');

    // Assess
    expect(outcome.kind).toBe('permanent');
    expect(calls).toHaveLength(0);
  });

  it('never puts the apikey in an outcome reason', async () => {
    // Prepare
    const answers = [
      () => json(401, { status: 401, error: 'Unauthorized', response: { message: 'Unauthorized' } }),
      rejectWith(fetchFailed('ECONNREFUSED')),
      () => json(500, { status: 500, error: 'Internal Server Error', response: { message: 'boom' } }),
    ];

    // Act
    const outcomes = await Promise.all(answers.map(send));

    // Assess
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(target.apiKey);
  });
});

describe('evolutionGateway.sendText classification', () => {
  const envelope = (status: number, error: string, message: unknown) => ({
    status,
    error,
    response: { message },
  });

  const rows: Array<[string, () => Promise<Response> | Response, SendOutcome]> = [
    [
      '201 with key.id',
      () =>
        json(201, {
          key: { remoteJid: '551187654321@s.whatsapp.net', fromMe: true, id: '3EB0ABCDEF0123456789' },
          status: 'PENDING',
        }),
      { kind: 'sent', messageId: '3EB0ABCDEF0123456789', remoteJid: '551187654321@s.whatsapp.net' },
    ],
    [
      '201 without key.id',
      () => json(201, { status: 'PENDING' }),
      { kind: 'unknown', reason: 'accepted without a message id (201)' },
    ],
    [
      '400 not on WhatsApp',
      () =>
        json(
          400,
          envelope(400, 'Bad Request', [
            { jid: '5511987654321@s.whatsapp.net', exists: false, number: '5511987654321' },
          ]),
        ),
      { kind: 'permanent', reason: 'not on WhatsApp' },
    ],
    [
      '400 Text is required',
      () => json(400, envelope(400, 'Bad Request', ['Text is required'])),
      { kind: 'permanent', reason: 'rejected: Text is required' },
    ],
    [
      '400 schema error',
      () => json(400, envelope(400, 'Bad Request', [['instance requires property "text"']])),
      { kind: 'permanent', reason: 'rejected: instance requires property "text"' },
    ],
    [
      '400 rate-overlimit',
      () => json(400, envelope(400, 'Bad Request', ['Error: rate-overlimit'])),
      { kind: 'transient', reason: 'rate-overlimit', rateLimited: true },
    ],
    [
      '400 other Baileys error',
      () => json(400, envelope(400, 'Bad Request', ['Error: Timed Out'])),
      { kind: 'transient', reason: 'send failed: Timed Out', rateLimited: false },
    ],
    [
      '401 wrong apikey',
      () => json(401, envelope(401, 'Unauthorized', 'Unauthorized')),
      { kind: 'transient', reason: 'unauthorized', rateLimited: false },
    ],
    [
      '403',
      () => json(403, envelope(403, 'Forbidden', ['Missing global api key'])),
      { kind: 'transient', reason: 'forbidden', rateLimited: false },
    ],
    [
      '404 unknown instance',
      () => json(404, envelope(404, 'Not Found', ['The "loja 1" instance does not exist'])),
      { kind: 'transient', reason: 'instance not found', rateLimited: false },
    ],
    [
      '404 without the Evolution envelope',
      () => new Response('<html>Not Found</html>', { status: 404 }),
      { kind: 'transient', reason: 'not found (404)', rateLimited: false },
    ],
    [
      '413',
      () => new Response('too large', { status: 413 }),
      { kind: 'permanent', reason: 'text too large' },
    ],
    [
      '429 from a proxy',
      () => new Response('slow down', { status: 429 }),
      { kind: 'transient', reason: 'rate limited (429)', rateLimited: true },
    ],
    [
      '500 Connection Closed',
      () => json(500, envelope(500, 'Internal Server Error', 'Connection Closed')),
      { kind: 'transient', reason: 'connection closed', rateLimited: false },
    ],
    [
      '500 with the envelope and another message',
      () => json(500, envelope(500, 'Internal Server Error', 'Internal Server Error')),
      { kind: 'transient', reason: 'gateway error 500: Internal Server Error', rateLimited: false },
    ],
    [
      '502 from a proxy (empty body)',
      () => new Response('', { status: 502 }),
      { kind: 'unknown', reason: 'proxy error 502' },
    ],
    [
      '502 nginx HTML page',
      () => html(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>'),
      { kind: 'unknown', reason: 'proxy error 502' },
    ],
    [
      '504 nginx HTML page',
      () => html(504, '<html><head><title>504 Gateway Time-out</title></head><body>nginx</body></html>'),
      { kind: 'unknown', reason: 'proxy error 504' },
    ],
    [
      '504 even with an envelope-like JSON body',
      () => json(504, envelope(504, 'Gateway Timeout', 'upstream timed out')),
      { kind: 'unknown', reason: 'proxy error 504' },
    ],
    [
      '500 Cloudflare HTML page',
      () => html(500, '<!DOCTYPE html><title>Internal Server Error | Cloudflare</title>'),
      { kind: 'unknown', reason: "gateway error 500 without Evolution's envelope" },
    ],
    [
      '520 Cloudflare unknown error',
      () => html(520, '<!DOCTYPE html><title>Web server is returning an unknown error</title>'),
      { kind: 'unknown', reason: "gateway error 520 without Evolution's envelope" },
    ],
    [
      '503 JSON without the envelope (a load balancer)',
      () => json(503, { message: 'Service Unavailable' }),
      { kind: 'unknown', reason: "gateway error 503 without Evolution's envelope" },
    ],
    [
      '500 whose body never arrives',
      () =>
        new Response(
          new ReadableStream({
            start: (controller) => controller.error(new Error('socket hang up')),
          }),
          { status: 500 },
        ),
      { kind: 'unknown', reason: "gateway error 500 without Evolution's envelope" },
    ],
    [
      '503 LICENSE_REQUIRED',
      () => json(503, { status: 503, code: 'LICENSE_REQUIRED', error: 'Service Unavailable' }),
      { kind: 'transient', reason: 'license required', rateLimited: false },
    ],
    [
      'connection refused',
      rejectWith(fetchFailed('ECONNREFUSED')),
      { kind: 'transient', reason: 'gateway unreachable (ECONNREFUSED)', rateLimited: false },
    ],
    [
      'DNS failure',
      rejectWith(fetchFailed('ENOTFOUND')),
      { kind: 'transient', reason: 'gateway unreachable (ENOTFOUND)', rateLimited: false },
    ],
    [
      'timeout',
      rejectWith(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      { kind: 'unknown', reason: 'timeout' },
    ],
    [
      'abort',
      rejectWith(new DOMException('This operation was aborted', 'AbortError')),
      { kind: 'unknown', reason: 'timeout' },
    ],
    [
      'connection reset after sending',
      rejectWith(fetchFailed('ECONNRESET')),
      { kind: 'unknown', reason: 'connection lost (ECONNRESET)' },
    ],
    [
      'socket closed by the other side',
      rejectWith(fetchFailed('UND_ERR_SOCKET')),
      { kind: 'unknown', reason: 'connection lost (UND_ERR_SOCKET)' },
    ],
    [
      'an error without a code',
      rejectWith(new Error('socket hang up')),
      { kind: 'unknown', reason: 'connection lost' },
    ],
  ];

  it.each(rows)('classifies %s', async (_name, reply, expected) => {
    // Act
    const outcome = await send(reply);

    // Assess
    expect(outcome).toEqual(expected);
  });
});

describe('evolutionGateway.connectionState', () => {
  it('asks GET connectionState with the apikey and returns the state', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(() =>
      json(200, { instance: { instanceName: 'loja 1', state: 'connecting' } }),
    );

    // Act
    const state = await createEvolutionGateway({ fetch }).connectionState(target);

    // Assess
    expect(state).toBe('connecting');
    expect(calls[0]?.url).toBe('https://evo.example.com/instance/connectionState/loja%201');
    expect(calls[0]?.init.method).toBe('GET');
    expect(new Headers(calls[0]?.init.headers).get('apikey')).toBe('secret-key-123');
  });

  const unknownRows: Array<[string, () => Promise<Response> | Response]> = [
    ['404', () => json(404, { status: 404, error: 'Not Found', response: { message: ['x'] } })],
    ['401', () => json(401, { status: 401, error: 'Unauthorized', response: { message: 'Unauthorized' } })],
    ['a missing state key', () => json(200, { instance: { instanceName: 'loja 1' } })],
    ['a state outside the contract', () => json(200, { instance: { state: 'refused' } })],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 })],
    ['a network error', rejectWith(fetchFailed('ECONNREFUSED'))],
  ];

  it.each(unknownRows)('returns unknown for %s, saying which URL failed', async (_name, reply) => {
    // Prepare
    const { fetch } = fakeFetch(reply);
    const problems: Array<{ url: string; reason: string }> = [];

    // Act
    const state = await createEvolutionGateway({
      fetch,
      onUnreachable: (p) => problems.push(p),
    }).connectionState(target);

    // Assess
    expect(state).toBe('unknown');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.url).toBe('https://evo.example.com/instance/connectionState/loja%201');
  });

  it('names why: the HTTP status, or the network error code', async () => {
    // Prepare
    const problems: Array<{ url: string; reason: string }> = [];
    const onUnreachable = (p: { url: string; reason: string }) => problems.push(p);

    // Act
    await createEvolutionGateway({
      fetch: fakeFetch(unknownRows[1]?.[1] as () => Response).fetch,
      onUnreachable,
    }).connectionState(target);
    await createEvolutionGateway({
      fetch: fakeFetch(rejectWith(fetchFailed('ECONNREFUSED'))).fetch,
      onUnreachable,
    }).connectionState(target);

    // Assess
    expect(problems.map((p) => p.reason)).toEqual(['HTTP 401', 'ECONNREFUSED']);
    expect(JSON.stringify(problems)).not.toContain('secret-key-123');
  });
});
