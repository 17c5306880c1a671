import { z } from 'zod';
import type { CallbackRef } from '../../ports/callback-queue.ts';
import { createMessageCodec } from './message-codec.ts';

/** The callbacks queue's message on the wire (JSON), the same for SQS and RabbitMQ. */
const callbackRefSchema = z.object({
  queueId: z.string().min(1),
  eventId: z.string().min(1),
}) satisfies z.ZodType<CallbackRef>;

/** No FIFO keys: the callbacks queue is unordered (SQS standard), a ref delivered twice is claimed once. */
export const callbackRefCodec = createMessageCodec('callback ref', callbackRefSchema);
