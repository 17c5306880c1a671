import { ApiError } from './api.ts';
import { h } from './dom.ts';

/** What a page of the dashboard is: it builds itself in the element given and may refresh its data live. */
export interface Page {
  /** The document title's first part and the page's heading. */
  title: string;
  refresh?: () => Promise<void>;
  /** How often `refresh` runs while the tab is visible. */
  refreshMs?: number;
}

/** Mounts a page in `main` (its own view); `params` are the route's captured segments (ids). */
export type MountPage = (main: HTMLElement, params: string[]) => Promise<Page>;

/** A place for a page's error or confirmation, read out by screen readers when it changes. */
export interface MessageBox {
  element: HTMLElement;
  show(error: unknown): void;
  info(text: string): void;
  clear(): void;
}

export const messageBox = (): MessageBox => {
  const element = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', hidden: true });
  const set = (text: string, kind: 'error' | 'info') => {
    element.textContent = text;
    element.className = `message ${kind}`;
    element.hidden = false;
  };
  return {
    element,
    show: (error) =>
      set(error instanceof ApiError ? error.message : 'Algo deu errado. Tente de novo.', 'error'),
    info: (text) => set(text, 'info'),
    clear: () => {
      element.hidden = true;
      element.textContent = '';
    },
  };
};

/**
 * A read and its drawing where only the newest read may draw: reads overlap (the live refresh, a
 * filter changed, the pager, a button's own reload) and answer in any order, and an older answer
 * drawn last would put back what the user has just moved away from (the rows of the previous
 * filter, a paused queue shown running again) until the next refresh. `show` runs for a read only
 * when no read has started since; the returned function resolves once that is settled.
 */
export const newestOnly = <T>(read: () => Promise<T>, show: (data: T) => void | Promise<void>) => {
  let latest = 0;
  return async (): Promise<void> => {
    const call = ++latest;
    const data = await read();
    if (call === latest) await show(data);
  };
};

/**
 * A list's reload asked for by a filter or the pager: it never rejects (an event handler's
 * rejection would go unhandled); a failure shows the API's Portuguese message in `message` and
 * answers false, a success clears the message and answers true.
 */
export const listReload = (message: MessageBox, load: () => Promise<void>) => async (): Promise<boolean> => {
  try {
    await load();
    message.clear();
    return true;
  } catch (error) {
    message.show(error);
    return false;
  }
};

/**
 * A "Mais" pager over a cursor-paginated list: holds the cursors of the pages seen. `reload`
 * (a listReload) shows the page asked for; when it fails the pager stays on the page shown.
 */
export const cursorPager = (reload: () => Promise<boolean>) => {
  const cursors: (string | undefined)[] = [undefined];
  let page = 0;
  let next: string | null = null;
  const previousButton = h('button', { type: 'button', onclick: () => void go(page - 1) }, 'Anterior');
  const nextButton = h('button', { type: 'button', onclick: () => void go(page + 1) }, 'Próxima');
  const label = h('span', { 'aria-live': 'polite' });
  const go = async (to: number) => {
    if (to < 0 || (to > page && !next)) return;
    const shown = page;
    if (to > page) cursors[to] = next ?? undefined;
    page = to;
    if (!(await reload())) page = shown;
  };
  return {
    element: h('nav', { class: 'pager', 'aria-label': 'Paginação' }, previousButton, label, nextButton),
    /** The cursor of the page to show. */
    cursor: () => cursors[page],
    /** Back to the first page (a filter changed). */
    reset: () => {
      cursors.length = 1;
      page = 0;
    },
    /** Records what the page just read said about the next one. */
    update: (nextCursor: string | null) => {
      next = nextCursor;
      previousButton.disabled = page === 0;
      nextButton.disabled = !next;
      label.textContent = `Página ${page + 1}`;
    },
  };
};
