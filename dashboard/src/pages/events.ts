import { api, type BillingEventsResponse, type QueueListResponse, query } from '../api.ts';
import { fill, h, table } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { cursorPager, listReload, type MountPage, messageBox, newestOnly } from '../page.ts';
import { filterSelect } from './queues.ts';

/** Eventos: the callback events of the tenant and where their delivery to the ERP stands. */

const EVENTS: Record<string, string> = {
  sent: 'Enviada',
  delivered: 'Entregue',
  read: 'Lida',
  failed: 'Falhou',
  unknown: 'Resultado incerto',
  replied: 'Respondida',
  'queue.completed': 'Fila concluída',
  delivery_stalled: 'Parada',
  cancelled: 'Cancelada',
};

type Event = BillingEventsResponse['events'][number];

const delivery = (e: Event): string => {
  const d = e.delivery;
  switch (d.status) {
    case 'delivered':
      return `Entregue ao ERP ${formatDateTime(d.delivered_at)}`;
    case 'pending':
      // Never attempted and no next time: its first attempt waits on the callbacks queue (seconds).
      if (d.attempts === 0 && !d.next_attempt_at) return 'Na fila para envio ao ERP';
      return `Tentando de novo (${d.attempts} tentativas); próxima ${formatDateTime(d.next_attempt_at)}`;
    case 'dead':
      return `Desistiu após ${d.attempts} tentativas${d.last_error ? `: ${d.last_error}` : ''}`;
    default:
      return 'Não enviado (sem callback)';
  }
};

export const mountEvents: MountPage = async (main) => {
  const list = h('div', {});
  const message = messageBox();
  const reload = listReload(message, () => refresh());
  const pager = cursorPager(reload);
  const queues = await api<QueueListResponse>('/queues?limit=50');
  const queue = filterSelect(
    'filtro-fila',
    'Fila',
    queues.queues.map((q) => [q.id, q.external_id]),
    () => {
      pager.reset();
      void reload();
    },
    'Todas',
  );
  main.append(
    h('h1', {}, 'Eventos'),
    h('div', { class: 'filters' }, queue.element),
    message.element,
    list,
    pager.element,
  );

  const refresh = newestOnly(
    () =>
      api<BillingEventsResponse>(
        `/events${query({ queue_id: queue.select.value, limit: 50, cursor: pager.cursor() })}`,
      ),
    (page) => {
      pager.update(page.next_cursor);
      fill(
        list,
        page.events.length
          ? table(
              'Eventos',
              ['Quando', 'Evento', 'Fila', 'Cliente', 'Entrega ao ERP'],
              page.events.map((e) => [
                formatDateTime(e.occurred_at),
                EVENTS[e.event] ?? e.event,
                h('a', { href: `#/filas/${e.queue_id}` }, e.external_id),
                e.contact ? `${e.contact.nome_cliente} (${e.contact.telefone})` : '—',
                delivery(e),
              ]),
            )
          : h('p', {}, 'Nenhum evento. Eventos são guardados para campanhas com callback_url.'),
      );
    },
  );
  await refresh();
  return { title: 'Eventos', refresh, refreshMs: 15_000 };
};
