import type { DebtorErasureAnswer } from '../app/erase-debtor.ts';
import { type EtaContext, NO_ETA_CONTEXT, queueEtaOf } from '../app/queue-eta.ts';
import { processedContacts, remainingContacts } from '../domain/billing-queue.ts';
import { allowedQueueActions, CONTACT_STATUS_DISPLAY, QUEUE_STATUS_DISPLAY } from '../domain/queue-state.ts';
import type { BillingConfig } from '../domain/tenant-types.ts';
import type { BillingContact, BillingQueue, Campaign } from '../domain/types.ts';
import type { SendBillingResponse } from './schemas/billing.ts';
import type { DebtorErasureResponse } from './schemas/debtors.ts';
import type { QueueStatusBody } from './schemas/queues.ts';

/** Maps domain entities to the guide's snake_case bodies (the shapes of lib/http/schemas/). */

export const CAMPAIGN_CREATED_MESSAGE = 'Campanha criada com sucesso';

export const sendResponseView = (campaign: Campaign): SendBillingResponse => ({
  success: true,
  message: CAMPAIGN_CREATED_MESSAGE,
  billing_campaign_id: campaign.id,
  queue_id: campaign.queueId,
  total_contacts: campaign.accepted,
  estimated_duration_minutes: campaign.estimatedDurationMinutes,
  accepted: campaign.accepted,
  rejected: campaign.rejected as SendBillingResponse['rejected'],
  scheduled_start: campaign.scheduledStart,
});

/**
 * The status body (the guide's example fields first), with the queue's ETA (app/queue-eta.ts:
 * calendar, warm-up caps and turns with the other queues on its instance, from `context`).
 */
export const queueStatusView = (
  q: BillingQueue,
  config: BillingConfig,
  now: Date,
  context: EtaContext = NO_ETA_CONTEXT,
): QueueStatusBody => {
  const done = processedContacts(q);
  const remaining = remainingContacts(q);
  const eta = queueEtaOf(q, config, now, context);
  return {
    id: q.id,
    status: q.status,
    status_display: QUEUE_STATUS_DISPLAY[q.status],
    total_contacts: q.totalContacts,
    contacts_sent: q.contactsSent,
    contacts_delivered: q.contactsDelivered,
    contacts_failed: q.contactsFailed,
    contacts_pending_retry: q.contactsPendingRetry,
    progress_percent: q.totalContacts ? Math.round((done / q.totalContacts) * 10_000) / 100 : 100,
    current_rate: q.currentRate,
    eta,
    started_at: q.startedAt,
    completed_at: q.completedAt,
    pause_reason: q.pauseReason,
    contacts_read: q.contactsRead,
    contacts_replied: q.contactsReplied,
    contacts_cancelled: q.contactsCancelled,
    contacts_pending: Math.max(0, remaining - q.contactsPendingRetry),
    contacts_unknown: q.contactsUnknown,
    // Absent on queues stored before the field existed; briefly negative when a late receipt's
    // decrement lands before the sweeper's increment.
    contacts_stalled: Math.max(0, q.contactsStalled ?? 0),
    // Absent on queues stored before the frequency cap existed.
    contacts_deferred: q.contactsDeferred ?? 0,
    paused_at: q.pausedAt,
    next_run_at: q.nextRunAt,
    template_type: q.templateType,
    external_id: q.externalId,
    billing_campaign_id: q.campaignId,
    created_at: q.createdAt,
    allowed_actions: allowedQueueActions(q.status),
  };
};

export const contactView = (c: BillingContact) => ({
  id: c.id,
  index: c.position,
  telefone: c.phone,
  nome_cliente: c.name,
  status: c.status,
  status_display: CONTACT_STATUS_DISPLAY[c.status],
  attempts: c.attempts,
  last_error: c.lastError,
  last_error_at: c.lastErrorAt,
  provider_message_id: c.providerMessageId,
  variation_id: c.variationId,
  rendered_message: c.renderedMessage,
  sent_at: c.sentAt,
  delivered_at: c.deliveredAt,
  read_at: c.readAt,
  server_ack_at: c.serverAckAt ?? null,
  stalled_at: c.stalledAt ?? null,
  deferred_until: c.status === 'retry' && c.deferred ? (c.retryAt ?? null) : null,
  numero_fatura: c.invoiceNumber ?? null,
  cancel_reason: c.cancelReason ?? null,
  erased_at: c.erasedAt ?? null,
});

/** What an erasure's answer says of where it stands. */
const erasureMessage = ({ state, inFlight, queuesChecked }: DebtorErasureAnswer): string => {
  if (state === 'busy')
    return 'Outra requisição está apagando os dados deste telefone agora: repita em alguns segundos';
  if (inFlight > 0)
    return `Dados pessoais apagados, exceto ${inFlight} lembrete(s) sendo enviado(s) agora: repita em alguns segundos`;
  if (state === 'in_progress')
    return `Exclusão em andamento: ${queuesChecked} fila(s) percorrida(s) até agora; repita a requisição para continuar`;
  return 'Dados pessoais do devedor apagados';
};

export const debtorErasureView = (erasure: DebtorErasureAnswer): DebtorErasureResponse => {
  const { counts } = erasure;
  return {
    success: true,
    message: erasureMessage(erasure),
    erasure_id: erasure.erasureId,
    complete: erasure.state === 'complete',
    in_flight: erasure.inFlight,
    queues_checked: erasure.queuesChecked,
    erased: {
      contacts: counts.contacts,
      contacts_cancelled: counts.contactsCancelled,
      messages: counts.messages,
      callback_events: counts.callbackEvents,
      opt_outs: counts.optOuts,
      campaign_rejections: counts.campaignRejections,
    },
  };
};
