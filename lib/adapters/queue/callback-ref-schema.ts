import { z } from 'zod';
import type { CallbackRef } from '../../ports/callback-queue.ts';
import type { WorkDeliveryFailureKind } from './work-item-schema.ts';

/**
 * The callbacks queue's message body (JSON), the same for SQS and RabbitMQ. Unknown keys are
 * stripped rather than refused: a newer publisher may add fields.
 */
export const callbackRefSchema = z.object({
  queueId: z.string().min(1),
  eventId: z.string().min(1),
}) satisfies z.ZodType<CallbackRef>;

/** Serialises a ref after checking it, so a bad ref fails at the publisher, not at every consumer. */
export const encodeCallbackRef = (ref: CallbackRef): string => JSON.stringify(callbackRefSchema.parse(ref));

/** Reads a message body; `undefined` for anything that is not a valid ref (poison message). */
export const decodeCallbackRef = (body: string | undefined): CallbackRef | undefined => {
  if (body === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = callbackRefSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
};

/** What both callback queue adapters hand to `ConsumeOptions.onError` (the kinds of WorkDeliveryError). */
export class CallbackDeliveryError extends Error {
  override readonly name = 'CallbackDeliveryError';
  constructor(
    readonly kind: WorkDeliveryFailureKind,
    readonly messageId: string,
    readonly receiveCount: number,
    options: { cause?: unknown } = {},
  ) {
    super(`callback ref ${messageId} ${kind} (receive ${receiveCount})`, options);
  }
}
