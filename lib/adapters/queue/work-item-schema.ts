import { z } from 'zod';
import type { WorkItem } from '../../ports/work-queue.ts';
import { createMessageCodec } from './message-codec.ts';

/** The work item on the wire (JSON), the same for SQS and RabbitMQ. */
export const workItemSchema = z.object({
  queueId: z.string().min(1),
  tenantId: z.string().min(1),
  instanceId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  handover: z.object({ afterPosition: z.number().int().nonnegative().nullable() }).optional(),
  recount: z.literal(true).optional(),
}) satisfies z.ZodType<WorkItem>;

/** The deduplication key of an item: the same queue published twice in one generation is one item. */
export const workItemKey = (item: WorkItem): string => `${item.queueId}:${item.generation}`;

/**
 * One group per WhatsApp instance. Instance ids are unique per tenant only (two tenants may both
 * call theirs `demo`), so the group names both.
 */
export const messageGroupOf = (item: WorkItem): string => `${item.tenantId}:${item.instanceId}`;

/**
 * On SQS FIFO the group is the WhatsApp instance, so SQS itself never hands out two items of one
 * instance at once (while one is in flight its group is locked), and the deduplication id is
 * `queueId:generation`, so publishing one generation twice within SQS's 5-minute window delivers it once.
 */
export const workItemCodec = createMessageCodec('work item', workItemSchema, {
  groupId: messageGroupOf,
  deduplicationId: workItemKey,
});
