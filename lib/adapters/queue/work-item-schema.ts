import { z } from 'zod';
import type { WorkItem } from '../../ports/work-queue.ts';

/**
 * The message body both queue adapters put on the wire (JSON). One schema for SQS and RabbitMQ, so
 * a body written by either is read by either, and a malformed one is caught before any handler.
 * Unknown keys are stripped rather than refused: a newer publisher may add fields.
 */
export const workItemSchema = z.object({
  queueId: z.string().min(1),
  tenantId: z.string().min(1),
  instanceId: z.string().min(1),
  generation: z.number().int().nonnegative(),
}) satisfies z.ZodType<WorkItem>;

/** The deduplication key of an item: the same queue published twice in one generation is one item. */
export const workItemKey = (item: WorkItem): string => `${item.queueId}:${item.generation}`;

/** Serialises an item after checking it, so a bad item fails at the publisher, not at every consumer. */
export const encodeWorkItem = (item: WorkItem): string => JSON.stringify(workItemSchema.parse(item));

/** Reads a message body; `undefined` for anything that is not a valid item (poison message). */
export const decodeWorkItem = (body: string | undefined): WorkItem | undefined => {
  if (body === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = workItemSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
};

export type WorkDeliveryFailureKind = 'invalid-body' | 'handler-failed' | 'dead-lettered';

/**
 * What both adapters hand to `ConsumeOptions.onError`, so logs and metrics can tell a poison body,
 * a failed attempt (it will come back) and a final failure (it went to the dead-letter queue) apart.
 */
export class WorkDeliveryError extends Error {
  override readonly name = 'WorkDeliveryError';
  constructor(
    readonly kind: WorkDeliveryFailureKind,
    readonly messageId: string,
    readonly receiveCount: number,
    options: { cause?: unknown } = {},
  ) {
    super(`work item ${messageId} ${kind} (receive ${receiveCount})`, options);
  }
}
