import { describe, expect, it } from 'vitest';
import { callbackRefCodec } from '../../lib/adapters/queue/callback-ref-schema.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';

const item: WorkItem = { queueId: 'q-1', tenantId: 't-1', instanceId: 'demo', generation: 3 };

describe('createMessageCodec', () => {
  it('reads back what it wrote', () => {
    // Act
    const body = workItemCodec.encode(item);

    // Assess
    expect(workItemCodec.decode(body)).toEqual(item);
  });

  it.each([
    ['a position', { afterPosition: 41 }],
    ['no position', { afterPosition: null }],
  ])("carries a run's clean handover with %s", (_, handover) => {
    // Act
    const body = workItemCodec.encode({ ...item, handover });

    // Assess
    expect(workItemCodec.decode(body)).toEqual({ ...item, handover });
  });

  it('reads a handover with a position that is not one as poison', () => {
    // Act
    const decoded = workItemCodec.decode(JSON.stringify({ ...item, handover: { afterPosition: -1 } }));

    // Assess
    expect(decoded).toBeUndefined();
  });

  it("carries a cancel's recount mark, and reads any other value of it as poison", () => {
    // Act
    const body = workItemCodec.encode({ ...item, recount: true });
    const other = workItemCodec.decode(JSON.stringify({ ...item, recount: 'yes' }));

    // Assess
    expect(workItemCodec.decode(body)).toEqual({ ...item, recount: true });
    expect(other).toBeUndefined();
  });

  it('carries the announced event whole, and reads a ref without one as before', () => {
    // Prepare
    const event = {
      eventId: 'q-1:0:sent',
      queueId: 'q-1',
      tenantId: 'acme',
      event: 'sent',
      occurredAt: '2026-12-06T10:00:00.000Z',
      createdAt: '2026-12-06T10:00:00.000Z',
      callbackUrl: 'https://erp.example.com/hook',
      apiKeyId: 'key-1',
      payload: { event_id: 'q-1:0:sent', event: 'sent', contact: { telefone: '+5511999990000' } },
      delivery: { status: 'pending', attempts: 0, nextAttemptAt: null },
    };
    const ref = {
      queueId: 'q-1',
      eventId: 'q-1:0:sent',
      stored: { event, expiresAt: '2027-03-06T10:00:00.000Z' },
    };

    // Act
    const decoded = callbackRefCodec.decode(callbackRefCodec.encode(ref as never));
    const withoutEvent = callbackRefCodec.decode('{"queueId":"q-1","eventId":"q-1:0:sent"}');
    const broken = callbackRefCodec.decode(
      JSON.stringify({ ...ref, stored: { event: { ...event, tenantId: 7 }, expiresAt: 'x' } }),
    );

    // Assess
    expect(decoded).toEqual(ref);
    expect(withoutEvent).toEqual({ queueId: 'q-1', eventId: 'q-1:0:sent' });
    expect(broken).toBeUndefined();
  });

  it('strips keys the schema does not know, so a newer publisher may add fields', () => {
    // Act
    const decoded = callbackRefCodec.decode('{"queueId":"q-1","eventId":"e-1","priority":"high"}');

    // Assess
    expect(decoded).toEqual({ queueId: 'q-1', eventId: 'e-1' });
  });

  it.each([
    ['no body', undefined],
    ['a body that is not JSON', '{"queueId":'],
    ['a body that fails the schema', '{"queueId":42}'],
    ['another type of message', '{"queueId":"q-1","eventId":"e-1"}'],
  ])('reads %s as poison (undefined)', (_, body) => {
    // Act
    const decoded = workItemCodec.decode(body);

    // Assess
    expect(decoded).toBeUndefined();
  });

  it('refuses to write a message that fails its schema, so a bad message fails at the publisher', () => {
    // Act
    const write = () => workItemCodec.encode({ ...item, generation: -1 });

    // Assess
    expect(write).toThrow();
  });

  it('gives a work item its FIFO group (tenant and instance) and deduplication id (queue and generation)', () => {
    // Act
    const keys = {
      group: workItemCodec.fifo?.groupId(item),
      dedup: workItemCodec.fifo?.deduplicationId(item),
    };

    // Assess: instance ids are unique per tenant only, so the group names both.
    expect(keys).toEqual({ group: 't-1:demo', dedup: 'q-1:3' });
    expect(callbackRefCodec.fifo).toBeUndefined();
  });
});
