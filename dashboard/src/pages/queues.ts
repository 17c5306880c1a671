import { api, type QueueListResponse, query } from '../api.ts';
import { fill, h, progressBar, table } from '../dom.ts';
import { formatDateTime, formatNumber } from '../format.ts';
import { cursorPager, listReload, type MountPage, messageBox, newestOnly } from '../page.ts';
import { queueLink } from './overview.ts';

/** Filas: every queue, newest first, filterable by status and type, paginated. */

export const TEMPLATE_TYPE_LABELS: Record<string, string> = {
  overdue: 'Atrasada',
  upcoming: 'A vencer',
  notification: 'Aviso',
};

const QUEUE_STATUS_LABELS: [string, string][] = [
  ['pending', 'Pendente'],
  ['scheduled', 'Agendada'],
  ['running', 'Em execução'],
  ['paused', 'Pausada'],
  ['instance_down', 'Instância desconectada'],
  ['completed', 'Concluído'],
  ['cancelled', 'Cancelada'],
  ['failed', 'Falhou'],
];

/** A labelled select with an "all" option (`allLabel`); `onChange` on every change. */
export const filterSelect = (
  id: string,
  label: string,
  options: [string, string][],
  onChange: () => void,
  allLabel = 'Todos',
) => {
  const select = h(
    'select',
    { id, onchange: onChange },
    h('option', { value: '' }, allLabel),
    ...options.map(([value, text]) => h('option', { value }, text)),
  );
  return { select, element: h('span', { class: 'field' }, h('label', { for: id }, label), select) };
};

export const mountQueues: MountPage = async (main) => {
  const list = h('div', { 'aria-live': 'polite' });
  const message = messageBox();
  const reload = listReload(message, () => refresh());
  const pager = cursorPager(reload);
  const onFilter = () => {
    pager.reset();
    void reload();
  };
  const status = filterSelect('filtro-status', 'Status', QUEUE_STATUS_LABELS, onFilter);
  const type = filterSelect('filtro-tipo', 'Tipo', Object.entries(TEMPLATE_TYPE_LABELS), onFilter);
  main.append(
    h('h1', {}, 'Filas'),
    h('div', { class: 'filters' }, status.element, type.element),
    message.element,
    list,
    pager.element,
  );

  const refresh = newestOnly(
    () =>
      api<QueueListResponse>(
        `/queues${query({ status: status.select.value, template_type: type.select.value, limit: 20, cursor: pager.cursor() })}`,
      ),
    (page) => {
      pager.update(page.next_cursor);
      fill(
        list,
        page.queues.length
          ? table(
              'Filas',
              ['Fila', 'Tipo', 'Status', 'Progresso', 'Enviadas', 'Falhas', 'Previsão', 'Criada em'],
              page.queues.map((q) => [
                queueLink(q),
                TEMPLATE_TYPE_LABELS[q.template_type] ?? q.template_type,
                q.status_display,
                progressBar(q.progress_percent, `Progresso de ${q.external_id}`),
                `${formatNumber(q.contacts_sent)} / ${formatNumber(q.total_contacts)}`,
                formatNumber(q.contacts_failed),
                formatDateTime(q.eta ?? q.next_run_at),
                formatDateTime(q.created_at),
              ]),
            )
          : h('p', {}, 'Nenhuma fila encontrada.'),
      );
    },
  );
  await refresh();
  return { title: 'Filas', refresh, refreshMs: 10_000 };
};
