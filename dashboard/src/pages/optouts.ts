import { api, type OptOutListResponse, query } from '../api.ts';
import { fill, h, table } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { cursorPager, listReload, type MountPage, messageBox, newestOnly } from '../page.ts';

/** Opt-outs: the phones that receive nothing, with add, remove and a search by phone. */

const ORIGINS: Record<string, string> = { reply: 'Resposta do cliente', api: 'Cadastro' };

export const mountOptOuts: MountPage = async (main) => {
  const message = messageBox();
  const list = h('div', {});
  const reload = listReload(message, () => refresh());
  const pager = cursorPager(reload);
  const phone = h('input', {
    id: 'optout-telefone',
    name: 'telefone',
    inputmode: 'tel',
    autocomplete: 'off',
    required: true,
  });
  const reason = h('input', { id: 'optout-motivo', name: 'motivo', maxlength: 500 });
  const search = h('input', {
    id: 'optout-busca',
    type: 'search',
    inputmode: 'numeric',
    autocomplete: 'off',
  });

  const add = h(
    'form',
    { class: 'filters', 'aria-labelledby': 'incluir' },
    h('h2', { id: 'incluir', class: 'visually-hidden' }, 'Incluir telefone'),
    h('span', { class: 'field' }, h('label', { for: 'optout-telefone' }, 'Telefone'), phone),
    h('span', { class: 'field' }, h('label', { for: 'optout-motivo' }, 'Motivo'), reason),
    h('button', { type: 'submit' }, 'Incluir'),
  );
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.clear();
    try {
      await api('/optouts', {
        method: 'POST',
        body: { telefone: phone.value, motivo: reason.value || undefined },
      });
      message.info(`Telefone ${phone.value} incluído na lista de opt-out.`);
      phone.value = '';
      reason.value = '';
      pager.reset();
      await refresh();
    } catch (error) {
      message.show(error);
    }
  });
  const searchForm = h(
    'form',
    { class: 'filters', role: 'search' },
    h('span', { class: 'field' }, h('label', { for: 'optout-busca' }, 'Buscar telefone'), search),
    h('button', { type: 'submit', class: 'secondary' }, 'Buscar'),
  );
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    pager.reset();
    void reload();
  });

  const remove = async (telefone: string) => {
    message.clear();
    try {
      await api(`/optouts/${encodeURIComponent(telefone)}`, { method: 'DELETE' });
      message.info(`Telefone ${telefone} removido da lista de opt-out.`);
      await refresh();
    } catch (error) {
      message.show(error);
    }
  };

  main.append(h('h1', {}, 'Opt-outs'), add, message.element, searchForm, list, pager.element);

  const refresh = newestOnly(
    () =>
      api<OptOutListResponse>(
        `/optouts${query({ telefone: search.value.trim(), limit: 20, cursor: pager.cursor() })}`,
      ),
    (page) => {
      pager.update(page.next_cursor);
      fill(
        list,
        page.opt_outs.length
          ? table(
              'Telefones em opt-out',
              ['Telefone', 'Origem', 'Motivo', 'Desde', 'Ação'],
              page.opt_outs.map((o) => [
                o.telefone,
                ORIGINS[o.origem] ?? o.origem,
                o.motivo || '—',
                formatDateTime(o.created_at),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    'aria-label': `Remover ${o.telefone}`,
                    onclick: () => void remove(o.telefone),
                  },
                  'Remover',
                ),
              ]),
            )
          : h('p', {}, 'Nenhum telefone na lista.'),
      );
    },
  );
  await refresh();
  return { title: 'Opt-outs', refresh, refreshMs: 30_000 };
};
