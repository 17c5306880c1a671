import { DomainError } from '../domain/errors.ts';
import type { BillingQueue, TemplateType } from '../domain/types.ts';
import type { CampaignStore } from '../ports/store.ts';

/** Whose queues a caller sees: a tenant's, optionally only those of some template types (an API key's). */
export interface QueueOwner {
  tenantId: string;
  templateTypes?: readonly TemplateType[];
}

/** Whether `owner` may see `queue`. */
export const ownsQueue = (
  owner: QueueOwner,
  queue: Pick<BillingQueue, 'tenantId' | 'templateType'>,
): boolean =>
  queue.tenantId === owner.tenantId && (owner.templateTypes?.includes(queue.templateType) ?? true);

/**
 * A queue of this owner (a tenant id, or a tenant limited to template types). Unknown ids,
 * malformed ids, other tenants' queues and queues of types the key may not use are all the same
 * 404, so nobody learns that such a queue exists.
 */
export const getQueueForTenant = async (
  deps: { store: CampaignStore },
  owner: string | QueueOwner,
  queueId: string | undefined,
): Promise<BillingQueue> => {
  const queue = queueId ? await deps.store.getQueue(queueId) : undefined;
  if (!queue || !ownsQueue(typeof owner === 'string' ? { tenantId: owner } : owner, queue)) {
    throw new DomainError('QUEUE_NOT_FOUND');
  }
  return queue;
};
