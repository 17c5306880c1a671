import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { PROMETHEUS } from '../../lib/observability/metric-names.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Local mode's `GET /metrics` end to end: the Prometheus series move with a real run of the local
 * stack (worker, SQS, the simulator and its webhooks), read back through a small text-format parser.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Scrape {
  /** `# TYPE` of each family. */
  types: Map<string, string>;
  samples: Sample[];
}

const UNESCAPE: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

const parseValue = (text: string): number => {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
  return value;
};

/** One sample line: `name{label="value",...} value [timestamp]`, label values escaped. */
const parseSample = (line: string): Sample => {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) throw new Error(`no metric name: ${line}`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i += 1;
    while (line[i] !== '}') {
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*="/.exec(line.slice(i))?.[0];
      if (!label) throw new Error(`bad label at ${i}: ${line}`);
      i += label.length;
      let value = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated label value: ${line}`);
        if (line[i] === '\\') {
          const escaped = UNESCAPE[line[i + 1] ?? ''];
          if (escaped === undefined) throw new Error(`bad escape at ${i}: ${line}`);
          value += escaped;
          i += 2;
        } else {
          value += line[i];
          i += 1;
        }
      }
      labels[label.slice(0, -2)] = value;
      i += 1;
      if (line[i] === ',') i += 1;
      else if (line[i] !== '}') throw new Error(`expected , or } at ${i}: ${line}`);
    }
    i += 1;
  }
  const [value, ...rest] = line.slice(i).trim().split(/\s+/);
  if (rest.length > 1) throw new Error(`trailing text: ${line}`);
  return { name, labels, value: parseValue(value ?? '') };
};

/** The Prometheus text exposition format 0.0.4: `# TYPE` comments and sample lines. */
const parsePrometheus = (text: string): Scrape => {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type?.[1] && type[2]) types.set(type[1], type[2]);
      continue;
    }
    samples.push(parseSample(line));
  }
  return { types, samples };
};

/** Samples of `name` whose labels include `labels`. */
const matching = (scrape: Scrape, name: string, labels: Record<string, string>): Sample[] =>
  scrape.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );

/** The value of the one series of `name` with exactly these labels; 0 when it does not exist yet. */
const seriesValue = (scrape: Scrape, name: string, labels: Record<string, string>): number => {
  const found = matching(scrape, name, labels).filter(
    (s) => Object.keys(s.labels).length === Object.keys(labels).length,
  );
  if (found.length > 1) throw new Error(`${found.length} series of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
};

/** The sum over every series of `name` whose labels include `labels`. */
const total = (scrape: Scrape, name: string, labels: Record<string, string>): number =>
  matching(scrape, name, labels).reduce((sum, s) => sum + s.value, 0);

const COUNT = 6;

describe('prometheus metrics (local stack)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs');
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const scrape = async (): Promise<Scrape> => {
    const response = await s.test.get('/metrics', { key: null });
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(response.body as string);
  };

  /** A tenant whose simulator instance posts its webhooks (duplicated, READ before DELIVERY_ACK) here. */
  const webhookTenant = async (): Promise<SendingTenant> => {
    // One send a second: the run lasts seconds, so a scrape sees it running even on a loaded machine
    // (at 600/min the whole batch once went by between two scrapes).
    const tenant = await s.tenant({ ...FAST_PACE, messagesPerMinute: 60 });
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
      jwt: false,
    });
    s.simulator.setWebhookBehaviour(tenant.instance, { duplicate: true, reorder: true });
    return tenant;
  };

  it('moves the sent, duration, active-queue, rate and failure series with a run, and the receipt and reply counters once each', async () => {
    // Prepare
    const tenant = await webhookTenant();
    const t = { tenant_id: tenant.tenantId };
    const notification = { ...t, template_type: 'notification' };
    const sent = PROMETHEUS.messagesSent.name;
    const duration = `${PROMETHEUS.sendDuration.name}_count`;
    const active = PROMETHEUS.activeQueues.name;
    const rate = PROMETHEUS.sendRate.name;
    const before = await scrape();

    // Act: a batch, scraped while it runs
    const { queueId, numbers } = await s.sendBatch(tenant, COUNT);
    const during = await waitFor(
      async () => {
        const now = await scrape();
        const running = seriesValue(now, active, { ...t, status: 'running' }) === 1;
        return running && matching(now, rate, { ...t, queue_id: queueId }).length === 1 && now;
      },
      { timeoutMs: 20_000, intervalMs: 10, what: 'the running queue and its send rate in /metrics' },
    );
    await s.waitForStatus(tenant, queueId, ['completed']);
    // The pump moves the gauge right after its status write, which the wait above may see first
    // (CI once scraped in between): the scrape that counts is the one after the run left it.
    const after = await waitFor(
      async () => {
        const now = await scrape();
        return seriesValue(now, active, { ...t, status: 'running' }) === 0 && now;
      },
      { timeoutMs: 5_000, intervalMs: 10, what: 'the completed queue out of the running gauge' },
    );

    // Assess: the run
    expect(seriesValue(after, sent, { ...notification, status: 'sent' })).toBe(
      seriesValue(before, sent, { ...notification, status: 'sent' }) + COUNT,
    );
    expect(s.sent(tenant)).toHaveLength(COUNT);
    // One duration per attempt, whatever its outcome.
    expect(seriesValue(after, duration, notification) - seriesValue(before, duration, notification)).toBe(
      total(after, sent, notification) - total(before, sent, notification),
    );
    expect(seriesValue(after, duration, notification)).toBeGreaterThan(
      seriesValue(before, duration, notification),
    );
    // (The first sample of a run is 0: one send measures no pace yet.)
    expect(Number.isFinite(seriesValue(during, rate, { ...t, queue_id: queueId }))).toBe(true);
    expect(seriesValue(after, active, { ...t, status: 'running' })).toBe(0);
    expect(seriesValue(after, active, { ...t, status: 'pending' })).toBe(0);
    expect(matching(after, rate, { ...t, queue_id: queueId })).toEqual([]);
    expect(matching(after, PROMETHEUS.failureRate.name, notification).map((x) => x.value)).toEqual([0]);
    expect(
      Object.fromEntries(Object.values(PROMETHEUS).map((f) => [f.name, after.types.get(f.name)])),
    ).toEqual(Object.fromEntries(Object.values(PROMETHEUS).map((f) => [f.name, f.type])));

    // Act: every receipt webhook (each posted twice, READ first) settles, then a reply and its replay
    await waitFor(
      async () =>
        s.simulator.pendingWebhooks() === 0 && (await s.status(tenant, queueId)).contacts_read === COUNT,
      { timeoutMs: 20_000, what: 'every receipt of the batch to be applied' },
    );
    const reply = await s.simulator.reply({
      instance: tenant.instance,
      number: numbers[0] as string,
      text: 'Já paguei',
      quote: true,
    });
    const replay = await s.simulator.reply({
      instance: tenant.instance,
      number: numbers[0] as string,
      text: 'Já paguei',
      quote: true,
      id: reply.id,
    });
    const settled = await scrape();

    // Assess: delivered and read once per message (a READ first counts both), the reply once
    expect([reply.status, replay.status]).toEqual([200, 200]);
    expect(seriesValue(settled, PROMETHEUS.messagesDelivered.name, notification)).toBe(COUNT);
    expect(seriesValue(settled, PROMETHEUS.messagesRead.name, notification)).toBe(COUNT);
    expect(seriesValue(settled, PROMETHEUS.messagesReplied.name, notification)).toBe(1);
  }, 60_000);
});
