/**
 * A few DOM helpers instead of a UI framework. Text always goes in as text nodes, never as HTML,
 * so data from the API (names, replies) cannot inject markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element: `on<event>` attributes become listeners, `true` a bare attribute, false/undefined none. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  element.append(
    ...children
      .filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === 'number' ? String(c) : c)),
  );
  return element;
};

/** Replaces an element's content. */
export const fill = (element: Element, ...children: Child[]): void =>
  element.replaceChildren(...h('div', {}, ...children).childNodes);

/** A table with a caption, header cells and rows; on a phone each row becomes a card whose cells name their column. */
export const table = (caption: string, headers: string[], rows: Child[][]): HTMLElement =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((title) => h('th', { scope: 'col' }, title)))),
      h(
        'tbody',
        {},
        ...rows.map((cells) =>
          h('tr', {}, ...cells.map((cell, i) => h('td', { 'data-label': headers[i] }, cell))),
        ),
      ),
    ),
  );

/** A progress bar with its percentage as text, for eyes and screen readers alike. */
export const progressBar = (percent: number, label: string): HTMLElement =>
  h(
    'span',
    { class: 'progress' },
    h('progress', { max: 100, value: percent, 'aria-label': label }),
    h('span', {}, `${percent.toLocaleString('pt-BR', { maximumFractionDigits: 1 })} %`),
  );
