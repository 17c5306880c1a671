import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAKING_TURNS_TTL_MS } from '../../lib/app/queue-eta.ts';
import { type AnyJson, API } from '../support/local-stack.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The per-debtor frequency cap and the warm-up of a new number on the whole local stack: HTTP, the
 * worker, the store-backed scheduler firing on the stack's clock, the simulator, an index that lags.
 * The clock runs in real time from a chosen moment (pacing sleeps for real); moving it to the next
 * morning is what lets the scheduler fire the waiting queue.
 */

/** Wednesday 2026-12-16, 10:00 in São Paulo: inside the default weekday hours (09:00-18:00). */
const WEDNESDAY_10H = '2026-12-16T13:00:00.000Z';

/** Overdue reminders for `debtors` (digits after +55), each with its own invoice. */
const overdueBatch = (debtors: Array<[string, string]>) => ({
  external_id: `lote-${randomUUID()}`,
  contacts: debtors.map(([name, phone], i) => ({
    nome_cliente: name,
    telefone: phone,
    valor: 'R$ 99,90',
    data_vencimento: '01/12/2026',
    numero_fatura: `NF-${i}-${randomUUID().slice(0, 4)}`,
  })),
});

describe('frequency caps and warm-up on the local stack', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs');
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const post = async (tenant: SendingTenant, type: string, body: unknown): Promise<string> => {
    const response = await s.test.post(`${API}/send/${type}`, body, { key: tenant.key });
    if (response.status !== 200 && response.status !== 201)
      throw new Error(`send failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.queue_id as string;
  };
  const contactsOf = async (tenant: SendingTenant, queueId: string): Promise<AnyJson[]> =>
    (await s.test.get(`${API}/queue/${queueId}/contacts`, { key: tenant.key })).body.contacts;
  const sentTo = (tenant: SendingTenant, phone: string) =>
    s.sent(tenant).filter((m) => m.number === `55${phone}`);

  it('sends one reminder a day to a debtor of two batches posted the same morning, the other the next day', async () => {
    // Prepare: Wednesday morning, one reminder a second (the index's lag is far shorter)
    s.test.clock.set(WEDNESDAY_10H);
    const tenant = await s.tenant({ ...FAST_PACE, messagesPerMinute: 60 });
    const maria = '11987650001';
    const first = await post(
      tenant,
      'overdue',
      overdueBatch([
        ['Maria', maria],
        ['João', '11987650002'],
        ['Pedro', '11987650003'],
      ]),
    );
    await s.waitForStatus(tenant, first, ['completed']);

    // Act: a second batch the same morning, with Maria again
    const second = await post(
      tenant,
      'overdue',
      overdueBatch([
        ['Ana', '11987650004'],
        ['Maria', maria],
      ]),
    );
    const waiting = await waitFor(
      async () => {
        const status = await s.status(tenant, second);
        const settled = status.contacts_deferred === 1 && status.contacts_sent === 1 && status.next_run_at;
        return settled ? status : undefined;
      },
      { timeoutMs: 20_000, what: 'Maria to be deferred, Ana sent, and the queue to wait' },
    );

    // Assess: Maria got one reminder today; hers waits for Thursday's opening (09:00)
    expect(sentTo(tenant, maria)).toHaveLength(1);
    expect(waiting).toMatchObject({
      status: 'running',
      contacts_pending_retry: 1,
      next_run_at: '2026-12-17T12:00:00.000Z',
    });
    const deferred = (await contactsOf(tenant, second))[1];
    expect(deferred).toMatchObject({
      status: 'retry',
      attempts: 0,
      deferred_until: '2026-12-17T12:00:00.000Z',
    });

    // Act: Thursday's opening; the scheduler publishes the queue again
    s.test.clock.set('2026-12-17T12:00:00.000Z');
    const done = await s.waitForStatus(tenant, second, ['completed'], 20_000);

    // Assess: the second reminder went on Thursday
    expect(done).toMatchObject({ contacts_sent: 2, contacts_deferred: 0, contacts_pending_retry: 0 });
    expect(sentTo(tenant, maria)).toHaveLength(2);
    const sent = (await contactsOf(tenant, second))[1];
    expect(sent.status).toBe('sent');
    expect(sent.sent_at >= '2026-12-17T12:00:00.000Z').toBe(true);
    expect(sent.deferred_until).toBeNull();
  });

  it('announces a batch on a new number as taking the days its ramp takes, at accept and in the status', async () => {
    // Prepare: Wednesday 22:00 in São Paulo (closed); a number added now ramps 3, 6, 12 a day.
    s.test.clock.set('2026-12-17T01:00:00.000Z');
    const tenant = await s.tenant(FAST_PACE, { firstDayLimit: 3 });
    const debtors = Array.from({ length: 10 }, (_, i): [string, string] => [
      `Cliente ${i}`,
      `1198765${2000 + i}`,
    ]);

    const batch = overdueBatch(debtors);

    // Act
    const accepted = await s.test.post(`${API}/send/overdue`, batch, { key: tenant.key });
    const queueId = accepted.body.queue_id as string;
    const status = await s.waitForStatus(tenant, queueId, ['scheduled']);
    await s.dynamo?.catchUp(); // the queue listing is an index read
    const listed = (await s.test.get(`${API}/queues`, { key: tenant.key })).body.queues;
    const campaign = (await s.test.get(`${API}/campaigns/${batch.external_id}`, { key: tenant.key })).body;

    // Assess: 6 go on Thursday from 09:00 (day 2's cap), the other 4 on Friday from 09:00, 0.1 s apart.
    expect(accepted.body.scheduled_start).toBe('2026-12-17T12:00:00.000Z');
    expect(accepted.body.estimated_duration_minutes).toBe(1441);
    expect(status.eta).toBe('2026-12-18T12:00:00.300Z');
    expect(listed.find((q: AnyJson) => q.id === queueId)?.eta).toBe(status.eta);
    expect(campaign.queue.eta).toBe(status.eta);
  });

  it("announces batches sharing one number as taking turns on it, in each one's status", async () => {
    // Prepare: Wednesday 22:00 in São Paulo (closed); an old number, one reminder every 30 s
    s.test.clock.set('2026-12-17T01:00:00.000Z');
    const tenant = await s.tenant({ ...FAST_PACE, messagesPerMinute: 2 });
    const debtors = (count: number, from: number) =>
      Array.from({ length: count }, (_, i): [string, string] => [`Cliente ${i}`, `1198765${from + i}`]);

    // Act: a batch of 10 and one of 4, both waiting for Thursday's opening (each within a minute of
    // 09:00: the start jitter)
    const ten = await post(tenant, 'overdue', overdueBatch(debtors(10, 3000)));
    const four = await post(tenant, 'overdue', overdueBatch(debtors(4, 3100)));
    await s.waitForStatus(tenant, ten, ['scheduled']);
    await s.waitForStatus(tenant, four, ['scheduled']);
    await s.dynamo?.catchUp(); // the queue listing is an index read
    // The API remembers the tenant's listing for its ETAs that long: the waits above read it already.
    s.test.clock.set(new Date(s.test.clock.now().getTime() + TAKING_TURNS_TTL_MS).toISOString());
    const tenStatus = await s.status(tenant, ten);
    const fourStatus = await s.status(tenant, four);
    const listed = (await s.test.get(`${API}/queues`, { key: tenant.key })).body.queues;

    // Assess: alone they would take 4 and 10 sends, overlapping (a minute apart at most, 90 and 270
    // s long); taking turns, each sends as many of the other's until it is done: 8 and 14 sends
    const sendsAfter = (status: AnyJson, sends: number) =>
      new Date(Date.parse(status.next_run_at) + (sends - 1) * 30_000).toISOString();
    expect(fourStatus.next_run_at >= '2026-12-17T12:00:00.000Z').toBe(true);
    expect(fourStatus.eta).toBe(sendsAfter(fourStatus, 8));
    expect(tenStatus.eta).toBe(sendsAfter(tenStatus, 14));
    expect(listed.find((q: AnyJson) => q.id === four)?.eta).toBe(fourStatus.eta);
    expect(listed.find((q: AnyJson) => q.id === ten)?.eta).toBe(tenStatus.eta);
  });

  it('holds a new number to its first day’s cap, shows the ramp, and goes on after midnight', async () => {
    // Prepare: a number added at 23:59:30 in São Paulo, 3 on its first day; notifications go 24/7
    s.test.clock.set('2026-12-17T02:59:30.000Z');
    const tenant = await s.tenant(FAST_PACE, { firstDayLimit: 3 });
    const numbers = ['11987651001', '11987651002', '11987651003', '11987651004', '11987651005'];
    const body = {
      external_id: `avisos-${randomUUID()}`,
      contacts: numbers.map((telefone, i) => ({ nome_cliente: `Cliente ${i}`, telefone, mensagem: 'Aviso' })),
    };

    // Act
    const queueId = await post(tenant, 'notification', body);
    const capped = await s.waitForStatus(tenant, queueId, ['scheduled']);
    const dayOne = (await s.test.get(`${API}/instances`, { key: tenant.key })).body.instances[0];

    // Assess: 3 sent, the queue waits for the next day, and says why
    expect(s.sent(tenant)).toHaveLength(3);
    expect(capped.contacts_sent).toBe(3);
    expect(capped.pause_reason).toMatch(
      /^Aquecimento do número: limite de 3 mensagens hoje \(dia 1\) atingido; retoma quinta-feira, 17\/12 às 00:00$/,
    );
    expect(dayOne.warmup).toEqual({
      enabled: true,
      start_date: '2026-12-16',
      first_day_limit: 3,
      daily_growth: 2,
      day: 1,
      daily_cap: 3,
      sent_today: 3,
      complete: false,
    });

    // Act: the next day begins
    s.test.clock.set(capped.next_run_at);
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 20_000);
    const dayTwo = (await s.test.get(`${API}/instances`, { key: tenant.key })).body.instances[0];

    // Assess
    expect(done.contacts_sent).toBe(5);
    expect(s.sent(tenant)).toHaveLength(5);
    expect(dayTwo.warmup).toMatchObject({ day: 2, daily_cap: 6, sent_today: 2 });
  });
});
