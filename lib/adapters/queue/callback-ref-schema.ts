import { z } from 'zod';
import type { CallbackRef } from '../../ports/callback-queue.ts';
import type { StoredCallbackEvent } from '../../ports/store/callbacks.ts';
import { createMessageCodec } from './message-codec.ts';

/**
 * The event a ref carries, checked where it matters to find and store it (ids, tenant, payload and
 * delivery present); the rest is the emitter's own item, passed through as it built it.
 */
const storedEventSchema = z.custom<StoredCallbackEvent>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['eventId', 'queueId', 'tenantId', 'event', 'occurredAt', 'createdAt'].every(
      (key) => typeof (value as Record<string, unknown>)[key] === 'string',
    ) &&
    typeof (value as Record<string, unknown>).payload === 'object' &&
    typeof (value as Record<string, unknown>).delivery === 'object',
  'not a stored callback event',
);

/** The callbacks queue's message on the wire (JSON), the same for SQS and RabbitMQ. */
const callbackRefSchema = z.object({
  queueId: z.string().min(1),
  eventId: z.string().min(1),
  stored: z.object({ event: storedEventSchema, expiresAt: z.string().min(1) }).optional(),
}) satisfies z.ZodType<CallbackRef>;

/** No FIFO keys: the callbacks queue is unordered (SQS standard), a ref delivered twice is claimed once. */
export const callbackRefCodec = createMessageCodec('callback ref', callbackRefSchema);
