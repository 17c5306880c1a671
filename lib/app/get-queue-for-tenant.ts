import { DomainError } from '../domain/errors.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { CampaignStore } from '../ports/store.ts';

/**
 * A queue of this tenant. Unknown ids, malformed ids and other tenants' queues are all the same
 * 404, so nobody learns that someone else's queue exists.
 */
export const getQueueForTenant = async (
  deps: { store: CampaignStore },
  tenantId: string,
  queueId: string | undefined,
): Promise<BillingQueue> => {
  const queue = queueId ? await deps.store.getQueue(queueId) : undefined;
  if (!queue || queue.tenantId !== tenantId) throw new DomainError('QUEUE_NOT_FOUND');
  return queue;
};
