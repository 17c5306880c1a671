import {
  type NewContactFields,
  type NewQueueFields,
  newBillingContact,
  newBillingQueue,
} from '../../lib/domain/billing-queue.ts';
import type { BillingContact, BillingQueue } from '../../lib/domain/types.ts';

/** The ids the store tests share, so their queues and contacts point at one another. */
const ACME = { tenantId: 'acme', queueId: 'queue-1', campaignId: 'camp-1', instanceId: 'inst-1' } as const;

/** Queue `queue-1` of tenant `acme` as Accept creates it; each test file adds its own size and time. */
export const acmeQueue = (
  fields: Partial<NewQueueFields> & Pick<BillingQueue, 'totalContacts' | 'createdAt'>,
): BillingQueue =>
  newBillingQueue({
    id: ACME.queueId,
    tenantId: ACME.tenantId,
    campaignId: ACME.campaignId,
    externalId: 'fatura-67890',
    templateType: 'overdue',
    instanceId: ACME.instanceId,
    ...fields,
  });

/** Contact `position` of `acme`'s `queue-1`, its phone and name numbered after the position. */
export const acmeContact = (
  position: number,
  fields: Partial<NewContactFields> &
    Pick<BillingContact, 'invoiceNumber' | 'variables' | 'renderedMessage' | 'createdAt'>,
): BillingContact =>
  newBillingContact({
    queueId: ACME.queueId,
    tenantId: ACME.tenantId,
    position,
    phone: `+55119${String(position).padStart(8, '0')}`,
    name: `Cliente ${position}`,
    variationId: 'v1',
    ...fields,
  });

/**
 * An expiry (retention) far after every clock the store tests use: items written with it stay, so
 * tests about something else never see them expire.
 */
export const KEPT_UNTIL = '2025-04-10T12:00:00.000Z';
