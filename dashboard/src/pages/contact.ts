import { api, type ContactDetailResponse, type PaymentsResponse } from '../api.ts';
import { fill, h } from '../dom.ts';
import { formatDateTime, formatMoney } from '../format.ts';
import { type MountPage, messageBox, newestOnly } from '../page.ts';

/**
 * A contact of a queue: the message as rendered, what happened to it, and the conversation. A reply
 * that says the debt was paid comes with "Marcar como pago", which tells the API the invoice was paid
 * (POST /payments): its reminders to this phone not sent yet are cancelled.
 */

const STEPS: Record<string, string> = {
  claimed: 'Reservada para envio',
  sent: 'Enviada',
  server_ack: 'Recebida pelo WhatsApp',
  delivered: 'Entregue',
  read: 'Lida',
  replied: 'Respondida',
  stalled: 'Parada (sem confirmação)',
  failed: 'Falhou',
};

const INTENTS: Record<string, string> = {
  opt_out: 'Pediu para sair (opt_out)',
  paid_claim: 'Diz que pagou (paid_claim)',
  promise_to_pay: 'Promete pagar (promise_to_pay)',
  dispute: 'Contesta (dispute)',
  other: 'Outra',
};

const CANCEL_REASONS: Record<string, string> = {
  paid: 'Cancelada: fatura paga',
  erased: 'Cancelada: dados apagados (LGPD)',
};

export const mountContact: MountPage = async (main, [queueId, index]) => {
  const body = h('div', {});
  // Outside `body`, which every refresh rebuilds: the answer to a click stays on screen.
  const message = messageBox();
  main.append(message.element, body);
  let payment: { numero_fatura: string; telefone: string } | null = null;

  const markPaid = async () => {
    if (!payment) return;
    message.clear();
    try {
      const answer = await api<PaymentsResponse>('/payments', { method: 'POST', body: payment });
      message.info(answer.message);
      await refresh();
    } catch (error) {
      message.show(error);
    }
  };

  const refresh = newestOnly(
    () => api<ContactDetailResponse>(`/queue/${queueId}/contacts/${index}`),
    (d) => {
      const c = d.contact;
      const v = d.variables;
      payment = c.numero_fatura ? { numero_fatura: c.numero_fatura, telefone: c.telefone } : null;
      // The action goes next to the latest reply that claims the payment (one button, however many).
      const lastPaidClaim = d.conversation.findLastIndex((m) => m.intent === 'paid_claim');
      const paidAction = () =>
        c.cancel_reason === 'paid'
          ? h('span', { class: 'paid' }, 'Marcado como pago')
          : h(
              'button',
              { type: 'button', class: 'mark-paid', onclick: () => void markPaid() },
              'Marcar como pago',
            );
      fill(
        body,
        h('p', {}, h('a', { href: `#/filas/${queueId}` }, 'Voltar para a fila')),
        h('h1', {}, c.nome_cliente),
        h(
          'dl',
          { class: 'card' },
          h('dt', {}, 'Telefone'),
          h('dd', {}, c.telefone),
          h('dt', {}, 'Status'),
          h(
            'dd',
            {},
            c.cancel_reason ? (CANCEL_REASONS[c.cancel_reason] ?? c.status_display) : c.status_display,
          ),
          h('dt', {}, 'Fatura'),
          h('dd', {}, c.numero_fatura ?? '—'),
          h('dt', {}, 'Valor'),
          h('dd', {}, formatMoney(v.valor_total ?? v.valor)),
          h('dt', {}, 'Vencimento'),
          h('dd', {}, String(v.data_vencimento ?? '—')),
          h('dt', {}, 'Tentativas'),
          h('dd', {}, c.attempts),
          h('dt', {}, 'Erro'),
          h('dd', {}, c.last_error ?? '—'),
        ),
        h('h2', {}, 'Mensagem enviada'),
        h('blockquote', { class: 'message-text' }, c.rendered_message),
        h('h2', {}, 'Linha do tempo'),
        d.timeline.length
          ? h(
              'ol',
              { class: 'timeline' },
              ...d.timeline.map((t) =>
                h('li', {}, h('strong', {}, STEPS[t.step] ?? t.step), ' ', formatDateTime(t.at)),
              ),
            )
          : h('p', {}, 'Ainda não enviada.'),
        h('h2', {}, 'Conversa'),
        d.conversation.length
          ? h(
              'ol',
              { class: 'conversation' },
              ...d.conversation.map((m, i) =>
                h(
                  'li',
                  { class: m.direction },
                  h(
                    'span',
                    { class: 'who' },
                    m.direction === 'inbound' ? 'Cliente' : 'Cobrança',
                    ' · ',
                    formatDateTime(m.at),
                  ),
                  h('span', { class: 'text' }, m.text),
                  m.intent ? h('span', { class: `intent ${m.intent}` }, INTENTS[m.intent] ?? m.intent) : null,
                  i === lastPaidClaim && payment ? paidAction() : null,
                ),
              ),
            )
          : h('p', {}, 'Nenhuma mensagem com este telefone.'),
      );
    },
  );
  await refresh();
  return { title: 'Contato', refresh, refreshMs: 10_000 };
};
