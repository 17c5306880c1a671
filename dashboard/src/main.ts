import { ApiError, api, forgetKey, type MeResponse, rememberKey, storedKey } from './api.ts';
import { fill, h } from './dom.ts';
import { setTimeZone } from './format.ts';
import { setLiveRefresh } from './live.ts';
import type { MountPage } from './page.ts';
import { mountContact } from './pages/contact.ts';
import { mountEvents } from './pages/events.ts';
import { mountOptOuts } from './pages/optouts.ts';
import { mountOverview } from './pages/overview.ts';
import { mountQueue } from './pages/queue.ts';
import { mountQueues } from './pages/queues.ts';

/**
 * The operator dashboard: a login with the API key, then a shell (tenant, navigation, Sair) whose
 * main area shows the page the URL's hash names. The hash holds only page and ids, never the key.
 */

const app = document.getElementById('app') as HTMLElement;

const NAVIGATION: [href: string, label: string][] = [
  ['#/visao-geral', 'Visão geral'],
  ['#/filas', 'Filas'],
  ['#/opt-outs', 'Opt-outs'],
  ['#/eventos', 'Eventos'],
];

/** Hash routes, most specific first: the pattern's groups are the page's params. */
const ROUTES: [RegExp, MountPage][] = [
  [/^#\/filas\/([\w-]+)\/contatos\/(\d+)$/, mountContact],
  [/^#\/filas\/([\w-]+)$/, mountQueue],
  [/^#\/filas$/, mountQueues],
  [/^#\/opt-outs$/, mountOptOuts],
  [/^#\/eventos$/, mountEvents],
  [/^#\/visao-geral$/, mountOverview],
];

const showLogin = (problem?: string) => {
  setLiveRefresh(undefined);
  const input = h('input', {
    id: 'chave',
    name: 'chave',
    type: 'password',
    autocomplete: 'off',
    required: true,
  });
  const error = h('p', { class: 'message error', role: 'alert', hidden: !problem }, problem ?? '');
  const button = h('button', { type: 'submit' }, 'Entrar');
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Painel de cobranças'),
    h('label', { for: 'chave' }, 'Chave da API'),
    input,
    button,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const key = input.value.trim();
      const me = await api<MeResponse>('/me', { key });
      rememberKey(key);
      showShell(me);
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : 'Não foi possível entrar.';
      error.hidden = false;
      button.disabled = false;
      input.focus();
    }
  });
  fill(app, h('main', { id: 'conteudo' }, form));
  input.focus();
};

/** Forgets the key and shows the login, with the reason when the API refused the key. */
const logoutWith = (problem?: string) => {
  window.onhashchange = null;
  forgetKey();
  history.replaceState(null, '', location.pathname);
  showLogin(problem);
};

const showShell = (me: MeResponse) => {
  setTimeZone(me.tenant.timezone);
  const links = NAVIGATION.map(([href, label]) => h('a', { href }, label));
  const main = h('main', { id: 'conteudo', tabindex: -1 });
  // A live refresh that fails (connection lost, hourly limit) says why here and keeps the last data.
  const liveProblem = h('p', { class: 'message error live', role: 'alert', hidden: true });
  const live = (refresh: () => Promise<void>) => async () => {
    try {
      await refresh();
      liveProblem.hidden = true;
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return logoutWith(failure.message);
      liveProblem.textContent = failure instanceof ApiError ? failure.message : String(failure);
      liveProblem.hidden = false;
    }
  };
  fill(
    app,
    h(
      'header',
      { class: 'top' },
      h('div', { class: 'tenant' }, h('strong', {}, me.tenant.name), h('span', {}, me.tenant.timezone)),
      h('nav', { 'aria-label': 'Principal' }, ...links),
      h('button', { type: 'button', class: 'secondary', onclick: () => logoutWith() }, 'Sair'),
    ),
    liveProblem,
    main,
  );

  /** Which route() call is the latest: a page still loading when the user moved on is dropped. */
  let latestRoute = 0;
  const route = async () => {
    const routeCall = ++latestRoute;
    const hash = location.hash || '#/visao-geral';
    const match = ROUTES.map(([pattern, mount]) => [hash.match(pattern), mount] as const).find(([m]) => m);
    if (!match) {
      location.hash = '#/visao-geral';
      return;
    }
    const [found, mount] = match;
    for (const link of links) {
      if (hash.startsWith(link.getAttribute('href') ?? '-')) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    setLiveRefresh(undefined);
    // Each page builds itself in a view of its own. A page whose data comes after the user has moved
    // on (the overview's five reads, then a click on Filas) writes into a view no longer shown, and
    // neither its content, its title nor its live refresh (every 30 s instead of Filas's 10) takes
    // over the page now shown.
    const view = h('div', { class: 'view' });
    main.replaceChildren(view);
    // Busy while the page reads its first data (the stylesheet shows "Carregando…").
    main.setAttribute('aria-busy', 'true');
    try {
      const page = await mount(view, (found as RegExpMatchArray).slice(1));
      if (routeCall !== latestRoute) return;
      document.title = `${page.title} - ${me.tenant.name}`;
      if (page.refresh) setLiveRefresh(live(page.refresh), page.refreshMs);
    } catch (failure) {
      if (routeCall !== latestRoute) return;
      if (failure instanceof ApiError && failure.status === 401) return logoutWith(failure.message);
      fill(
        view,
        h(
          'p',
          { class: 'message error', role: 'alert' },
          failure instanceof ApiError ? failure.message : String(failure),
        ),
      );
    }
    main.setAttribute('aria-busy', 'false');
    main.focus();
  };
  window.onhashchange = route;
  void route();
};

const start = async () => {
  const key = storedKey();
  if (!key) return showLogin();
  try {
    showShell(await api<MeResponse>('/me'));
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) forgetKey();
    showLogin(failure instanceof ApiError ? failure.message : undefined);
  }
};

void start();
