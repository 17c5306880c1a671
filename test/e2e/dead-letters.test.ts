import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEvolutionGateway } from '../../lib/adapters/gateway/evolution-gateway.ts';
import { runAdmin } from '../../lib/admin/main.ts';
import type { WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { RABBITMQ_URL } from '../support/rabbitmq.ts';
import { type QueueDriver, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * A burst of crashes: every run of the sender throws (here: the gateway's connection check), so
 * each work item is delivered five times and lands in the dead-letter queue. The operator looks
 * with `dlq list`, fixes the cause, and `dlq redrive` finishes the live queue and drops the item
 * of a queue that was cancelled meanwhile. The sweeper is kept out (a long grace period), so only
 * the redrive can finish the queue.
 */

/** The product's gateway, whose connection check fails while `broken` (what made the runs crash). */
const crashingGateway = () => {
  const real = createEvolutionGateway({ timeoutMs: 1500 });
  const state = { broken: true };
  const gateway: WhatsAppGateway = {
    ...real,
    sendText: (...args) => real.sendText(...args),
    connectionState: async (target) => {
      if (state.broken) throw new Error('simulated crash before any send');
      return real.connectionState(target);
    },
  };
  return { gateway, state };
};

/** Runs the admin CLI in-process against the running stack (found through its DATA_DIR). */
const admin = async (stack: SendingStack, ...argv: string[]) => {
  const { config } = stack.test.container;
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await runAdmin([...argv, '--json'], {
      DATA_DIR: config.DATA_DIR,
      QUEUE_DRIVER: config.QUEUE_DRIVER,
      WORK_QUEUE_NAME: config.WORK_QUEUE_NAME,
      AMQP_URL: RABBITMQ_URL,
    });
    if (code !== 0) throw new Error(`admin ${argv.join(' ')} exited ${code}: ${err.join('\n')}`);
    return JSON.parse(out.join('\n'));
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
};

interface ListedLetter {
  queue_id: string | null;
  tenant_id: string | null;
  deliveries: number;
  queue_status: string | null;
  on_redrive: string;
}

describe.each<QueueDriver>(['sqs', 'rabbitmq'])('dead letters on the %s driver', (driver) => {
  let stack: SendingStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('lists the work items that died, redrives the live queue to completion and drops the cancelled one', async () => {
    // Prepare: two tenants (two instances, so on SQS two FIFO groups die side by side).
    const { gateway, state } = crashingGateway();
    stack = await startSendingStack(driver, {
      indexLag: false,
      gateway,
      env: { SWEEPER_GRACE_SECONDS: '3600' },
    });
    const live = await stack.tenant();
    const doomed = await stack.tenant();
    const { queueId: liveQueue, numbers } = await stack.sendBatch(live, 3);
    const { queueId: cancelledQueue } = await stack.sendBatch(doomed, 2);
    const s = stack;
    const listing = await waitFor(
      async () => {
        const listed = await admin(s, 'dlq', 'list');
        return listed.total === 2 && listed.letters.length === 2 ? listed : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'both work items in the dead-letter queue' },
    );
    expect((await stack.control(doomed, cancelledQueue, 'cancel')).status).toBe(200);

    // Act
    const afterCancel = await admin(stack, 'dlq', 'list');
    state.broken = false;
    const redrive = await admin(stack, 'dlq', 'redrive');
    const again = await admin(stack, 'dlq', 'redrive');

    // Assess
    const byQueue = (letters: ListedLetter[], id: string) => letters.find((l) => l.queue_id === id);
    expect(byQueue(listing.letters, liveQueue)).toMatchObject({
      tenant_id: live.tenantId,
      deliveries: 5,
      queue_status: 'pending',
      on_redrive: 'redrive',
    });
    expect(byQueue(afterCancel.letters, cancelledQueue)).toMatchObject({
      tenant_id: doomed.tenantId,
      queue_status: 'cancelled',
      on_redrive: 'drop',
    });
    expect(redrive).toMatchObject({ redriven: 1, dropped: 1, kept: 0, remaining: 0 });
    expect(again).toMatchObject({ redriven: 0, dropped: 0, kept: 0, remaining: 0 });
    const finished = await stack.waitForStatus(live, liveQueue, ['completed'], 30_000);
    expect(finished.contacts_sent).toBe(3);
    expect(
      stack
        .sent(live)
        .map((m) => m.number)
        .sort(),
    ).toEqual([...numbers].sort());
    expect(stack.sent(doomed)).toEqual([]);
    expect((await admin(stack, 'dlq', 'list')).total).toBe(0);
  }, 120_000);
});
