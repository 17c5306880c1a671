import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../lib/domain/errors.ts';
import type { TemplateType } from '../../lib/domain/types.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { API, startTestStack, type TestStack } from '../support/local-stack.ts';

/**
 * Property: whatever body an ERP posts (valid, nearly valid, junk, not even JSON), the send
 * routes answer with a 4xx that explains itself or a 2xx that stored exactly what it reported,
 * and a refused request stores nothing. Requests go in-process through the real route handlers
 * (the same middy stack the Lambda runs) and the real DynamoDB store.
 *
 * Each run posts a batch of bodies concurrently for a fresh tenant, so the tenant's stored queues
 * (and the work items published for them) can be compared one to one with what the answers claim.
 */

const RUNS = 80;
const BODIES_PER_RUN = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TYPES: readonly TemplateType[] = ['overdue', 'upcoming', 'notification'];
// Small enough that huge generated strings sometimes cross it (413 is part of the contract too).
const MAX_BODY_BYTES = 131_072;

type Json = unknown;
interface Case {
  type: TemplateType;
  dryRun: boolean;
  contentType: string;
  /** The exact body text sent. */
  raw: string;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const hugeString = fc.string({ unit: 'binary', minLength: 300, maxLength: 3000 }).map((s) => s.repeat(3));
const unicode = fc.string({ unit: 'grapheme', maxLength: 30 });
const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hugeString,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', ' ', '\u0000', '{{nome_cliente}}', '<b>&amp;</b>', '1e999', '-1', 'NaN'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
);

const phone = fc.oneof(
  {
    arbitrary: fc.constantFrom('+5511999999999', '11987654321', '(21) 99876-5432', '5511912345678'),
    weight: 6,
  },
  { arbitrary: fc.constantFrom('+55 31 98888-7777', '0xx11 98765-4321', '+351 912 345 678'), weight: 2 },
  { arbitrary: fc.constantFrom('(11) 3333-4444', '123', 'abc', '+5511999999999 ext 1'), weight: 1 },
  { arbitrary: unicode.map((s) => s.slice(0, 20)), weight: 1 },
);

const pastDate = fc.constantFrom('01/12/2026', '2025-12-10', '1/1/2026', '15/12/2026');
const futureDate = fc.constantFrom('20/12/2026', '2027-01-31', '16/12/2026', '31/12/2999');
const oddDate = fc.constantFrom('31/02/2026', '2026-13-01', '00/00/0000', '10-12-2025', '', 'amanhã');
const dueDate = (type: TemplateType) =>
  fc.oneof(
    { arbitrary: type === 'upcoming' ? futureDate : pastDate, weight: 6 },
    { arbitrary: type === 'upcoming' ? pastDate : futureDate, weight: 1 },
    { arbitrary: oddDate, weight: 1 },
  );

const money = fc.oneof(
  fc.constantFrom('R$ 150,00', 'R$ 1.234,56', '150', '1234.5', '10,9', ' ', '', 'abc', '1,234'),
  fc.double({ min: -10, max: 1e9, noNaN: true }),
  fc.integer({ min: 0, max: 10_000_000 }),
);

const contact = (type: TemplateType) =>
  fc.record(
    {
      nome_cliente: fc.oneof(
        { arbitrary: fc.constantFrom('João Silva', 'Ana & Cia', 'Zoë 🚀 Ltda', "O'Brien <b>"), weight: 4 },
        { arbitrary: unicode, weight: 1 },
      ),
      telefone: phone,
      valor: money,
      data_vencimento: dueDate(type),
      valor_total: money,
      codigo_pix: fc.constantFrom('00020126580014br.gov.bcb.pix...', ''),
      link_pagamento: fc.constantFrom('https://pay.meu-erp.com/invoice/1', '', 'ftp://x'),
      numero_fatura: fc.oneof(fc.constantFrom('NF-1', 'NF-2'), fc.string({ maxLength: 12 })),
      titulo: unicode,
      mensagem: fc.oneof(fc.constantFrom('Seu boleto está disponível.', 'Aviso & lembrete'), unicode),
      contrato: unicode,
    },
    {
      requiredKeys:
        type === 'notification'
          ? ['nome_cliente', 'telefone', 'mensagem']
          : ['nome_cliente', 'telefone', 'valor', 'data_vencimento'],
    },
  );

const validBody = (type: TemplateType) =>
  fc.record(
    {
      contacts: fc.array(contact(type), { minLength: 1, maxLength: 3 }),
      callback_url: fc.constantFrom('https://meu-erp.com/webhooks/billing', ''),
      callback_events: fc.subarray(['sent', 'delivered', 'read', 'failed', 'replied', 'queue.completed']),
      metadata: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    },
    { requiredKeys: ['contacts'] },
  );

const TOP_KEYS = ['external_id', 'contacts', 'callback_url', 'callback_events', 'metadata'];
const CONTACT_KEYS = [
  'nome_cliente',
  'telefone',
  'valor',
  'data_vencimento',
  'valor_total',
  'codigo_pix',
  'link_pagamento',
  'numero_fatura',
  'titulo',
  'mensagem',
];
const ODD_KEYS = ['__proto__', 'constructor', 'dias_atraso', 'Bad-Name', '', 'x'.repeat(60), '1abc', 'extra'];

/** Sets an own enumerable key, even `__proto__` (plain assignment would change the prototype). */
const setKey = (target: Record<string, Json>, key: string, value: Json): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

/** One change that (usually) breaks a valid body. */
const often = <T>(arbitrary: fc.Arbitrary<T>) => ({ arbitrary, weight: 6 });
const mutation = fc.oneof(
  often(
    fc.record({
      kind: fc.constant('setTop' as const),
      key: fc.constantFrom(...TOP_KEYS, ...ODD_KEYS),
      value: junk,
    }),
  ),
  often(fc.record({ kind: fc.constant('dropTop' as const), key: fc.constantFrom(...TOP_KEYS) })),
  often(
    fc.record({
      kind: fc.constant('setContact' as const),
      key: fc.constantFrom(...CONTACT_KEYS, ...ODD_KEYS),
      value: junk,
    }),
  ),
  often(fc.record({ kind: fc.constant('dropContact' as const), key: fc.constantFrom(...CONTACT_KEYS) })),
  often(fc.record({ kind: fc.constant('numbersForStrings' as const), value: fc.double() })),
  often(fc.record({ kind: fc.constant('manyExtras' as const), count: fc.integer({ min: 19, max: 30 }) })),
  often(fc.record({ kind: fc.constant('notAnArray' as const), value: junk })),
  // Rare: a 1001-contact body is costly to generate and always refused the same way.
  { arbitrary: fc.record({ kind: fc.constant('tooMany' as const) }), weight: 1 },
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

const applyMutation = (body: Record<string, Json>, m: Mutation): Record<string, Json> => {
  const out: Record<string, Json> = structuredClone(body);
  const contacts = Array.isArray(out.contacts) ? (out.contacts as Record<string, Json>[]) : [];
  const first = contacts[0];
  switch (m.kind) {
    case 'setTop':
      setKey(out, m.key, m.value);
      break;
    case 'dropTop':
      delete out[m.key];
      break;
    case 'setContact':
      if (first) setKey(first, m.key, m.value);
      break;
    case 'dropContact':
      if (first) delete first[m.key];
      break;
    case 'numbersForStrings':
      if (first) for (const k of ['nome_cliente', 'telefone', 'data_vencimento']) first[k] = m.value;
      out.external_id = m.value;
      break;
    case 'manyExtras':
      if (first) for (let i = 0; i < m.count; i++) first[`extra_${i}`] = `v${i}`;
      break;
    case 'tooMany':
      if (first) out.contacts = Array.from({ length: 1001 }, () => first);
      break;
    case 'notAnArray':
      out.contacts = first ?? m.value;
      break;
  }
  return out;
};

/** Replaced per request with `prop-<index>`, so a stored campaign traces back to its one request. */
const EXTERNAL_ID_MARKER = '__external_id__';
const withExternalId = (body: Record<string, Json>): Record<string, Json> => ({
  external_id: EXTERNAL_ID_MARKER,
  ...body,
});
const stampExternalId = (raw: string, index: number): string =>
  raw.replace(JSON.stringify(EXTERNAL_ID_MARKER), JSON.stringify(`prop-${index}`));

const bodyText = (type: TemplateType): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: validBody(type).map((b) => JSON.stringify(withExternalId(b))), weight: 4 },
    {
      arbitrary: fc
        .tuple(validBody(type), mutation)
        .map(([b, m]) => JSON.stringify(applyMutation(withExternalId(b), m))),
      weight: 8,
    },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    {
      arbitrary: fc.tuple(validBody(type), fc.nat()).map(([b, cut]) => {
        const text = JSON.stringify(withExternalId(b));
        return text.slice(0, cut % text.length);
      }),
      weight: 1,
    },
  );

const requestCase: fc.Arbitrary<Case> = fc.constantFrom(...TYPES).chain((type) =>
  fc.record({
    type: fc.constant(type),
    dryRun: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    contentType: fc.oneof(
      { arbitrary: fc.constant('application/json'), weight: 18 },
      {
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'text/plain',
          'application/problem+json',
        ),
        weight: 2,
      },
    ),
    raw: bodyText(type),
  }),
);

// ---------------------------------------------------------------------------------------------

/** What the body says about itself when it parses: its external_id and how many contacts it has. */
const describeBody = (raw: string): { externalId?: string; contacts?: number } => {
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown> | null;
    if (!parsed || typeof parsed !== 'object') return {};
    return {
      externalId: typeof parsed.external_id === 'string' ? parsed.external_id.trim() : undefined,
      contacts: Array.isArray(parsed.contacts) ? parsed.contacts.length : undefined,
    };
  } catch {
    return {};
  }
};

let s: TestStack;
let tenantCounter = 0;

/**
 * The work queue is the one fake: what is published is recorded (and checked against what was
 * stored) instead of travelling through the SQS emulator, which would double the test's time.
 */
const published: WorkItem[] = [];
const recordingQueue: WorkQueue = {
  publish: async (item) => {
    published.push(item);
  },
  consume: async () => ({ stop: async () => undefined }),
  reachability: async () => 'ok' as const,
  close: async () => undefined,
};

beforeAll(async () => {
  s = await startTestStack({
    env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
    roles: { api: true, worker: false },
    workQueue: recordingQueue,
  });
});

afterAll(async () => {
  await s?.close();
});

describe('send routes (property)', () => {
  it('never answers 5xx, explains every refusal and stores nothing for a refused request', async () => {
    const statuses = new Map<number, number>();
    const codes = new Set<string>();

    const property = fc.asyncProperty(
      fc.array(requestCase, { minLength: BODIES_PER_RUN, maxLength: BODIES_PER_RUN }),
      async (cases) => {
        // Prepare: a fresh tenant whose hourly limit cannot hide anything behind a 429
        const t = await s.createTenant({
          id: `prop-${++tenantCounter}-${Date.now().toString(36)}`,
          config: { apiRateLimitPerHour: 1_000_000 },
        });

        const raws = cases.map((c, i) => stampExternalId(c.raw, i));

        // Act
        const answers = await Promise.all(
          cases.map((c, i) =>
            s.invoke(
              'POST',
              `${API}/send/${c.type}`,
              {},
              {
                key: t.key,
                body: raws[i],
                headers: { 'content-type': c.contentType },
                query: c.dryRun ? { dry_run: 'true' } : undefined,
              },
            ),
          ),
        );

        // Assess: every answer on its own
        const storedIds = new Set<string>();
        const acceptedExternalIds = new Set<string>();
        answers.forEach((answer, i) => {
          const c = cases[i] as Case;
          const raw = raws[i] as string;
          const shown = raw.length > 600 ? `${raw.slice(0, 300)} ... ${raw.slice(-300)}` : raw;
          const context = `case ${c.type}${c.dryRun ? ' dry' : ''} ${c.contentType} ${shown} -> ${answer.statusCode} ${answer.body.slice(0, 300)}`;
          statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
          expect(answer.statusCode, context).toBeLessThan(500);
          const body = JSON.parse(answer.body) as Record<string, unknown>;
          const sent = describeBody(raws[i] as string);
          if (answer.statusCode >= 300) {
            expect(body.success, context).toBe(false);
            expect(Object.keys(ERROR_TABLE), context).toContain(body.code);
            expect(typeof body.message === 'string' && body.message.length > 0, context).toBe(true);
            codes.add(String(body.code));
            return;
          }
          expect(body.success, context).toBe(true);
          const rejected = body.rejected as unknown[];
          // Nothing silently dropped: every contact sent is either accepted or reported.
          expect((body.accepted as number) + rejected.length, context).toBe(sent.contacts);
          expect(body.accepted as number, context).toBeGreaterThanOrEqual(c.dryRun ? 0 : 1);
          if (c.dryRun) {
            expect((body.messages as unknown[]).length, context).toBe(body.accepted);
            return;
          }
          expect(body.queue_id, context).toMatch(UUID);
          expect(body.billing_campaign_id, context).toMatch(UUID);
          expect(body.total_contacts, context).toBe(body.accepted);
          storedIds.add(body.queue_id as string);
          if (sent.externalId !== undefined) acceptedExternalIds.add(sent.externalId);
        });

        // Assess: the store holds exactly the queues the 2xx answers report
        const queues = await s.allQueues(t.tenantId);
        expect(new Set(queues.map((q) => q.id))).toEqual(storedIds);
        // ... each published once for the sender, and nothing published for a refused request
        const publishedHere = published.filter((item) => item.tenantId === t.tenantId).map((i) => i.queueId);
        expect(publishedHere.sort()).toEqual([...storedIds].sort());
        // ... and no campaign for any refused or dry-run request
        const unexpected = await Promise.all(
          answers.map(async (answer, i) => {
            const c = cases[i] as Case;
            const { externalId } = describeBody(raws[i] as string);
            // The schema refuses other lengths, so such an id never reaches the store (nor may our lookup).
            if (externalId === undefined || externalId.length === 0 || externalId.length > 255) return [];
            if (acceptedExternalIds.has(externalId) || (answer.statusCode < 300 && !c.dryRun)) return [];
            const campaign = await s.container.store.getCampaign(t.tenantId, externalId);
            return campaign ? [`${answer.statusCode} left campaign ${externalId}`] : [];
          }),
        );
        expect(unexpected.flat()).toEqual([]);
      },
    );
    // A whole batch is too big to shrink in time: stop at the first failure and report the
    // failing request (with the seed to replay it) instead of a 20-body counterexample.
    const details = await fc.check(property, { numRuns: RUNS, endOnFailure: true });
    const failure = details.failed
      ? `seed ${details.seed}, path ${details.counterexamplePath}: ${String(details.errorInstance)}`
      : undefined;
    expect(failure).toBeUndefined();

    // Assess: the generators reached both sides of the contract, not only one kind of refusal
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS);
    expect([...statuses.keys()].filter((status) => status >= 400).length).toBeGreaterThanOrEqual(3);
    expect(codes.size).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
