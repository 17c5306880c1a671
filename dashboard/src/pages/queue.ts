import { api, type Queue, type QueueContactsResponse, query } from '../api.ts';
import { fill, h, progressBar, table } from '../dom.ts';
import { formatDateTime, formatNumber } from '../format.ts';
import { cursorPager, listReload, type MountPage, messageBox, newestOnly } from '../page.ts';
import { filterSelect, TEMPLATE_TYPE_LABELS } from './queues.ts';

/** A queue's page: its status as a card, the control buttons, and its contacts. */

const CONTACT_STATUS_LABELS: [string, string][] = [
  ['pending', 'Pendente'],
  ['sending', 'Enviando'],
  ['sent', 'Enviada'],
  ['delivered', 'Entregue'],
  ['read', 'Lida'],
  ['failed', 'Falhou'],
  ['retry', 'Aguardando nova tentativa'],
  ['cancelled', 'Cancelada'],
  ['skipped_opt_out', 'Ignorada (opt-out)'],
  ['unknown', 'Envio incerto'],
];

const ACTIONS = [
  ['pause', 'Pausar'],
  ['resume', 'Retomar'],
  ['cancel', 'Cancelar'],
] as const;

/** One CSV field, quoted when it must be (RFC 4180). */
const csvField = (value: string | number): string => {
  const text = String(value);
  return /[";\n,]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const downloadCsv = (fileName: string, rows: (string | number)[][]) => {
  // The BOM makes spreadsheet programs read the accents as UTF-8.
  const csv = `\uFEFF${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
};

const statusCard = (q: Queue) =>
  h(
    'dl',
    { class: 'card' },
    ...(
      [
        ['Status', q.status_display],
        ['Tipo', TEMPLATE_TYPE_LABELS[q.template_type] ?? q.template_type],
        ['Progresso', progressBar(q.progress_percent, 'Progresso da fila')],
        ['Enviadas', `${formatNumber(q.contacts_sent)} de ${formatNumber(q.total_contacts)}`],
        ['Entregues / lidas', `${formatNumber(q.contacts_delivered)} / ${formatNumber(q.contacts_read)}`],
        ['Respostas', formatNumber(q.contacts_replied)],
        ['Falhas', formatNumber(q.contacts_failed)],
        ['Ritmo', `${q.current_rate.toLocaleString('pt-BR', { maximumFractionDigits: 1 })} msg/min`],
        ['Previsão de término', formatDateTime(q.eta)],
        ['Próxima execução', formatDateTime(q.next_run_at)],
        ['Motivo da pausa', q.pause_reason || '—'],
        ['Criada em', formatDateTime(q.created_at)],
      ] as const
    ).flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );

export const mountQueue: MountPage = async (main, [queueId]) => {
  const title = h('h1', {});
  const card = h('section', { 'aria-label': 'Status da fila' });
  const message = messageBox();
  const contacts = h('div', {});
  const contactsMessage = messageBox();
  const reloadContacts = listReload(contactsMessage, () => loadContacts());
  const pager = cursorPager(reloadContacts);
  const statusFilter = filterSelect('filtro-contato', 'Status do contato', CONTACT_STATUS_LABELS, () => {
    pager.reset();
    void reloadContacts();
  });
  const buttons = ACTIONS.map(([action, label]) =>
    h(
      'button',
      {
        type: 'button',
        class: action === 'cancel' ? 'danger' : undefined,
        'data-action': action,
        onclick: () => void control(action),
      },
      label,
    ),
  );
  const confirmDialog = h(
    'dialog',
    { 'aria-labelledby': 'confirmar-titulo' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirmar-titulo' }, 'Cancelar esta fila?'),
      h('p', {}, 'Os contatos ainda não enviados não receberão a mensagem. Não é possível desfazer.'),
      h(
        'div',
        { class: 'actions' },
        h('button', { value: 'no', class: 'secondary' }, 'Voltar'),
        h('button', { value: 'yes', class: 'danger' }, 'Sim, cancelar a fila'),
      ),
    ),
  );
  let shown: (string | number)[][] = [];
  let counters = '';

  main.append(
    title,
    card,
    h('div', { class: 'actions', role: 'group', 'aria-label': 'Controle da fila' }, ...buttons),
    message.element,
    confirmDialog,
    h('h2', {}, 'Contatos'),
    h(
      'div',
      { class: 'filters' },
      statusFilter.element,
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => downloadCsv(`fila-${queueId}.csv`, shown) },
        'Exportar CSV',
      ),
    ),
    contactsMessage.element,
    contacts,
    pager.element,
  );

  const loadContacts = newestOnly(
    () =>
      api<QueueContactsResponse>(
        `/queue/${queueId}/contacts${query({ status: statusFilter.select.value, limit: 50, cursor: pager.cursor() })}`,
      ),
    (page) => {
      pager.update(page.next_cursor);
      shown = [
        ['Cliente', 'Telefone', 'Status', 'Tentativas', 'Erro'],
        ...page.contacts.map((c) => [
          c.nome_cliente,
          c.telefone,
          c.status_display,
          c.attempts,
          c.last_error ?? '',
        ]),
      ];
      fill(
        contacts,
        page.contacts.length
          ? table(
              'Contatos da fila',
              ['Cliente', 'Telefone', 'Status', 'Tentativas', 'Erro'],
              page.contacts.map((c) => [
                h('a', { href: `#/filas/${queueId}/contatos/${c.index}` }, c.nome_cliente),
                c.telefone,
                c.status_display,
                c.attempts,
                c.last_error ?? '—',
              ]),
            )
          : h('p', {}, 'Nenhum contato com este status.'),
      );
    },
  );

  const showStatus = (q: Queue) => {
    title.textContent = `Fila ${q.external_id}`;
    fill(card, statusCard(q));
    for (const button of buttons)
      button.disabled = !q.allowed_actions.includes(
        button.dataset.action as Queue['allowed_actions'][number],
      );
  };

  const control = async (action: 'pause' | 'resume' | 'cancel') => {
    if (action === 'cancel') {
      confirmDialog.returnValue = '';
      confirmDialog.showModal();
      await new Promise((resolve) => confirmDialog.addEventListener('close', resolve, { once: true }));
      if (confirmDialog.returnValue !== 'yes') return;
    }
    message.clear();
    try {
      const answer = await api<{ message: string }>(`/queue/${queueId}/control`, {
        method: 'POST',
        body: { action },
      });
      message.info(answer.message);
      await refresh();
    } catch (error) {
      message.show(error);
    }
  };

  /** The status every refresh; the contacts only when the counters moved (they cost a read too). */
  const refresh = newestOnly(
    () => api<Queue>(`/queue/${queueId}/status`),
    async (q) => {
      showStatus(q);
      const now = JSON.stringify([
        q.status,
        q.contacts_sent,
        q.contacts_failed,
        q.contacts_delivered,
        q.contacts_read,
        q.contacts_cancelled,
      ]);
      if (now !== counters) {
        counters = now;
        await loadContacts();
      }
    },
  );
  await refresh();
  return { title: title.textContent ?? 'Fila', refresh, refreshMs: 5_000 };
};
