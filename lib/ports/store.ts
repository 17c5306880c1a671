import type { ApiKeyStore } from './store/api-keys.ts';
import type { CallbackStore } from './store/callbacks.ts';
import type { CampaignStore } from './store/campaigns.ts';
import type { ConversationStore } from './store/conversations.ts';
import type { CounterStore } from './store/counters.ts';
import type { DebtorStore } from './store/debtors.ts';
import type { DeliveryWatchStore } from './store/delivery-watch.ts';
import type { FeedbackStore } from './store/feedback.ts';
import type { ReceiptRecountStore } from './store/receipt-recount.ts';
import type { RetentionStore } from './store/retention.ts';
import type { ScheduleStore } from './store/schedules.ts';
import type { SendingStore } from './store/sending.ts';
import type { TenantStore } from './store/tenants.ts';

export type { ApiKeyStore } from './store/api-keys.ts';
export type {
  CallbackAttemptResult,
  CallbackDelivery,
  CallbackDeliveryStatus,
  CallbackEventQuery,
  CallbackPayload,
  CallbackStore,
  StoredCallbackEvent,
} from './store/callbacks.ts';
export type { CampaignStore, QueuePosition } from './store/campaigns.ts';
export type { ConversationStore } from './store/conversations.ts';
export type { CounterResult, CounterStore, RequestBudget } from './store/counters.ts';
export type {
  ContactErasure,
  ContactIdentity,
  DebtorErasureRecord,
  DebtorStore,
  ErasureProgress,
  MessageRef,
  QueueContactsRef,
  Rejection,
} from './store/debtors.ts';
export type { DeliveryWatch, DeliveryWatchStore } from './store/delivery-watch.ts';
export type { FeedbackStore } from './store/feedback.ts';
export type { PageRequest } from './store/paging.ts';
export type {
  ReceiptCounterDeltas,
  ReceiptCounts,
  ReceiptRecount,
  ReceiptRecountStore,
  ReceiptTally,
} from './store/receipt-recount.ts';
export type { ExpiredSweep, RetentionStore } from './store/retention.ts';
export type { ScheduleStore, StoredSchedule } from './store/schedules.ts';
export type {
  CancelledOnItsOwn,
  ContactSummary,
  FailedContact,
  InstanceLease,
  LeaseHolder,
  SendingStore,
  SentContact,
  WaitingStatus,
} from './store/sending.ts';
export type { TenantStore } from './store/tenants.ts';

/**
 * Persistence of the billing domain: the intersection of its role ports (lib/ports/store/), each
 * named for the work that uses it. A use case asks for the roles it needs, never the whole store.
 * Every state change is a single-item conditional write (the emulator has no transactions), so
 * each method is atomic on its own; expected outcomes (already exists, not found, limit reached)
 * come back as values.
 */
export type Store = TenantStore &
  ApiKeyStore &
  CounterStore &
  CampaignStore &
  SendingStore &
  ConversationStore &
  FeedbackStore &
  ReceiptRecountStore &
  DeliveryWatchStore &
  CallbackStore &
  ScheduleStore &
  RetentionStore &
  DebtorStore;
