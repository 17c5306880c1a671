import type { BillingContact, BillingQueue } from './types.ts';

/** What identifies a new queue; everything else starts at zero (`pending`, no progress). */
export type NewQueueFields = Pick<
  BillingQueue,
  | 'id'
  | 'tenantId'
  | 'campaignId'
  | 'externalId'
  | 'templateType'
  | 'instanceId'
  | 'totalContacts'
  | 'createdAt'
> &
  Partial<BillingQueue>;

/** A queue as the Accept path creates it: pending, every counter at zero. */
export const newBillingQueue = (fields: NewQueueFields): BillingQueue => ({
  status: 'pending',
  contactsSent: 0,
  contactsDelivered: 0,
  contactsRead: 0,
  contactsReplied: 0,
  contactsFailed: 0,
  contactsPendingRetry: 0,
  contactsCancelled: 0,
  contactsUnknown: 0,
  contactsSkipped: 0,
  contactsStalled: 0,
  contactsDeferred: 0,
  currentRate: 0,
  startedAt: null,
  completedAt: null,
  pausedAt: null,
  pauseReason: '',
  nextRunAt: null,
  publishGeneration: 0,
  ...fields,
});

/** What a new contact carries; it starts `pending`, never attempted. */
export type NewContactFields = Pick<
  BillingContact,
  | 'queueId'
  | 'tenantId'
  | 'position'
  | 'phone'
  | 'name'
  | 'invoiceNumber'
  | 'variables'
  | 'variationId'
  | 'renderedMessage'
  | 'createdAt'
> &
  Partial<BillingContact>;

/** A contact as the Accept path stores it. Its id `<queueId>:<position>` makes rewriting it idempotent. */
export const newBillingContact = (fields: NewContactFields): BillingContact => ({
  id: `${fields.queueId}:${fields.position}`,
  status: 'pending',
  attempts: 0,
  lastError: null,
  lastErrorAt: null,
  providerMessageId: null,
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  updatedAt: fields.createdAt,
  ...fields,
});

/** Contacts of a queue that no longer wait for a send (sent, failed, cancelled, unknown, skipped). */
export const processedContacts = (q: BillingQueue): number =>
  q.contactsSent + q.contactsFailed + q.contactsCancelled + q.contactsUnknown + q.contactsSkipped;

/** Contacts of a queue still waiting for a send (retries included). */
export const remainingContacts = (q: BillingQueue): number =>
  Math.max(0, q.totalContacts - processedContacts(q));
