import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import { messageFor } from '../../lib/domain/errors.ts';
import { ensureDashboardBuilt } from '../../lib/local/dashboard-build.ts';
import {
  inPage,
  launchChromium,
  scrollsSideways,
  seriousAccessibilityViolations,
} from '../support/browser.ts';
import { calendarClosedNow } from '../support/closed-calendar.ts';
import { API } from '../support/local-stack.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The operator dashboard in Chromium against the real local stack (issue 13): login, the queues,
 * a queue's controls and contacts, a contact's conversation, opt-outs, logout, and the phone
 * viewport. Screenshots of the main pages go to test/browser/screenshots/.
 */

const SCREENSHOTS = join(import.meta.dirname, 'screenshots');
// Live refreshes are API requests: the test tenants get room for them.
const ROOMY = { apiRateLimitPerHour: 100_000 };

/** Every page of the dashboard as [hash, heading], with one queue and its first contact. */
const everyPage = (queueId: string, externalId: string, firstContact: string): [string, string][] => [
  ['#/visao-geral', 'Visão geral'],
  ['#/filas', 'Filas'],
  [`#/filas/${queueId}`, `Fila ${externalId}`],
  [`#/filas/${queueId}/contatos/0`, firstContact],
  ['#/opt-outs', 'Opt-outs'],
  ['#/eventos', 'Eventos'],
];

describe('operator dashboard (Chromium)', () => {
  let s: SendingStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tenant: SendingTenant;
  /** Uncaught exceptions and unhandled rejections of the current tab. */
  let pageErrors: string[] = [];

  const newTenant = async (config = FAST_PACE): Promise<SendingTenant> => {
    const created = await s.tenant({ ...config, ...ROOMY });
    await configureInstanceWebhook(s.test.container, {
      tenantId: created.tenantId,
      instanceId: created.instance,
      publicUrl: s.test.url,
    });
    return created;
  };

  const login = async (key: string) => {
    await page.goto(`${s.test.url}/dashboard`);
    await page.getByLabel('Chave da API').fill(key);
    await page.getByRole('button', { name: 'Entrar' }).click();
  };

  /** Waits for the page titled `heading` to have read its data. */
  const loaded = async (heading: string) => {
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await page.locator('main[aria-busy="false"]').waitFor();
  };

  const cellTexts = (column: number) =>
    page.locator(`main table tbody tr td:nth-child(${column})`).allInnerTexts();

  const openFreshTab = async () => {
    context = await browser.newContext({ locale: 'pt-BR', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  };

  beforeAll(async () => {
    await ensureDashboardBuilt();
    await mkdir(SCREENSHOTS, { recursive: true });
    s = await startSendingStack('sqs', { indexLag: false });
    tenant = await newTenant();
    browser = await launchChromium();
    await openFreshTab();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  }, 30_000);
  afterEach(async () => {
    const uncaught = pageErrors;
    // Each test starts logged out, in a fresh tab.
    await context.close();
    await openFreshTab();
    // No page may leave an exception or a rejected promise unhandled (the console would show it).
    expect(uncaught).toEqual([]);
  });

  it("refuses a wrong key with the API's message, and keeps a right one in sessionStorage only", async () => {
    await login('billing_errada');
    await page.getByRole('alert').getByText('API Key inválida').waitFor();

    await page.getByLabel('Chave da API').fill(tenant.key);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await loaded('Visão geral');

    const header = await page.locator('header').textContent();
    expect(header).toContain(`Tenant ${tenant.tenantId}`);
    expect(header).toContain('America/Sao_Paulo');
    for (const label of ['Visão geral', 'Filas', 'Opt-outs', 'Eventos'])
      expect(
        await page.getByRole('navigation', { name: 'Principal' }).getByRole('link', { name: label }).count(),
      ).toBe(1);
    const storage = await inPage<{ session: string[]; local: number; url: string }>(
      page,
      '({ session: Object.values(sessionStorage), local: localStorage.length, url: location.href })',
    );
    expect(storage.session).toEqual([tenant.key]);
    expect(storage.local).toBe(0);
    expect(storage.url).not.toContain(tenant.key);
  });

  it("shows a new number's warm-up ramp in the instances of Visão geral", async () => {
    const fresh = await s.tenant({ ...FAST_PACE, ...ROOMY }, { firstDayLimit: 5 });
    const { queueId } = await s.sendBatch(fresh, 2, 'Aquecimento');
    await s.waitForStatus(fresh, queueId, ['completed']);
    await login(fresh.key);
    await loaded('Visão geral');

    const instances = page.getByRole('table', { name: 'Instâncias' });
    expect(await instances.getByRole('columnheader', { name: 'Aquecimento' }).count()).toBe(1);
    await instances.getByRole('cell', { name: 'Dia 1: 2 de 5 hoje' }).waitFor();
  });

  it('forgets the key on Sair', async () => {
    await login(tenant.key);
    await page.getByRole('heading', { name: 'Visão geral' }).waitFor();

    await page.getByRole('button', { name: 'Sair' }).click();

    await page.getByLabel('Chave da API').waitFor();
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByLabel('Chave da API').waitFor();
  });

  it('shows a posted batch in Filas, and its progress reaches 100 %', async () => {
    const { queueId } = await s.sendBatch(tenant, 3, 'Lista');
    await login(tenant.key);
    await page.getByRole('link', { name: 'Filas' }).click();
    await page.getByRole('heading', { name: 'Filas' }).waitFor();

    // The sending is the back end's (and slower on a loaded CI machine); what this test owns is that
    // the open page follows it: once the API says completed, the next live refresh (10 s) shows it.
    await s.waitForStatus(tenant, queueId, ['completed'], 60_000);
    const row = page.locator('main table tbody tr').first();
    await row.getByText('Concluído').waitFor({ timeout: 25_000 });
    await page.waitForFunction(
      "document.querySelector('main tbody tr progress')?.getAttribute('value') === '100'",
      undefined,
      { timeout: 25_000 },
    );
    expect(await row.textContent()).toContain('3 / 3');
    expect(await row.getByRole('link').getAttribute('href')).toBe(`#/filas/${queueId}`);

    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByText('Nenhuma fila encontrada.').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'filas.png'), fullPage: true });
  });

  it('keeps the rows of the filter chosen last when an earlier filter answers after it', async () => {
    const { queueId } = await s.sendBatch(tenant, 2, 'Filtro');
    await s.waitForStatus(tenant, queueId, ['completed'], 60_000);
    await login(tenant.key);
    await page.getByRole('link', { name: 'Filas' }).click();
    await loaded('Filas');

    // "Pausada" answers slowly (none of this tenant's queues is paused); the user picks "Concluído".
    let releasePaused = () => {};
    const pausedHeld = new Promise<void>((resolve) => {
      releasePaused = resolve;
    });
    await page.route(/\/queues\?.*status=paused/, async (route: Route) => {
      await pausedHeld;
      await route.continue();
    });
    const pausedAsked = page.waitForRequest(/\/queues\?.*status=paused/);
    await page.getByLabel('Status').selectOption('paused');
    await pausedAsked;
    await page.getByLabel('Status').selectOption('completed');
    await page.locator('main table tbody tr').first().getByText('Concluído').waitFor();

    const pausedAnswered = page.waitForResponse(/\/queues\?.*status=paused/);
    releasePaused();
    await pausedAnswered;
    await page.waitForTimeout(300);
    expect(await page.getByText('Nenhuma fila encontrada.').count()).toBe(0);
    expect(await cellTexts(3)).not.toEqual([]);
    expect(new Set(await cellTexts(3))).toEqual(new Set(['Concluído']));
    await page.unroute(/\/queues\?.*status=paused/);
  });

  it('shows only the page last asked for when an earlier one is still loading, and refreshes that one', async () => {
    // The overview reads slowly (a proxy holding its figures); the user goes on to Filas meanwhile.
    let releaseOverview = () => {};
    const overviewHeld = new Promise<void>((resolve) => {
      releaseOverview = resolve;
    });
    await page.route(/\/stats/, async (route: Route) => {
      await overviewHeld;
      await route.continue();
    });
    await login(tenant.key);
    await page.getByRole('heading', { name: 'Visão geral', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Filas' }).click();
    await loaded('Filas');
    const overviewAnswered = page.waitForResponse(/\/stats\?from=/);
    releaseOverview();
    await overviewAnswered;

    // The overview's late data stays out of the page and out of its title...
    await page.waitForTimeout(500);
    expect(await page.locator('main h1').allInnerTexts()).toEqual(['Filas']);
    expect(await page.title()).toMatch(/^Filas - /);
    // ...and the live refresh is Filas's (every 10 s), not the overview's (every 30 s).
    const refreshed = await page.waitForRequest(/\/queues\?.*limit=20/, { timeout: 15_000 });
    expect(refreshed.url()).not.toContain('limit=50');
    await page.unroute(/\/stats/);
  });

  it('pauses, resumes and cancels a queue from its page, buttons enabled only when allowed', async () => {
    const slow = await newTenant({ ...FAST_PACE, messagesPerMinute: 30 });
    const { queueId } = await s.sendBatch(slow, 20, 'Lento');
    await login(slow.key);
    await page.goto(`${s.test.url}/dashboard#/filas/${queueId}`);
    const card = page.getByRole('region', { name: 'Status da fila' });
    const button = (name: string) =>
      page.getByRole('group', { name: 'Controle da fila' }).getByRole('button', { name });
    await card.getByText('Em execução').waitFor({ timeout: 15_000 });
    expect(await button('Retomar').isDisabled()).toBe(true);

    await button('Pausar').click();
    await card.getByText('Pausada').waitFor();
    await page.getByText('Fila pausada').waitFor();
    expect(await button('Pausar').isDisabled()).toBe(true);

    await button('Retomar').click();
    await page.getByText('Fila retomada').waitFor();
    await waitFor(async () => !(await button('Pausar').isDisabled()), { what: 'Pausar to be enabled again' });

    await button('Cancelar').click();
    const dialog = page.getByRole('dialog', { name: 'Cancelar esta fila?' });
    await dialog.getByRole('button', { name: 'Voltar' }).click();
    expect(await card.getByText('Cancelada').count()).toBe(0);
    await button('Cancelar').click();
    await dialog.getByRole('button', { name: 'Sim, cancelar a fila' }).click();
    await card.getByText('Cancelada').waitFor();
    for (const name of ['Pausar', 'Retomar', 'Cancelar']) expect(await button(name).isDisabled()).toBe(true);
    expect((await s.status(slow, queueId)).status).toBe('cancelled');
    await page.screenshot({ path: join(SCREENSHOTS, 'fila.png'), fullPage: true });
  });

  it('pages through the contacts of a queue and exports what is shown as CSV', async () => {
    const { queueId } = await s.sendBatch(tenant, 60, 'Pagina');
    await login(tenant.key);
    await page.goto(`${s.test.url}/dashboard#/filas/${queueId}`);
    await page.getByRole('heading', { name: 'Contatos' }).waitFor();
    await page.locator('main table tbody tr').nth(49).waitFor();
    for (const title of ['Cliente', 'Telefone', 'Status', 'Tentativas', 'Erro'])
      expect(await page.getByRole('columnheader', { name: title }).count()).toBe(1);
    expect(await page.locator('main table tbody tr').count()).toBe(50);
    expect((await cellTexts(1))[0]).toBe('Pagina 0');

    await page.getByRole('button', { name: 'Próxima' }).click();
    await page.getByText('Página 2').waitFor();
    expect(await cellTexts(1)).toEqual(Array.from({ length: 10 }, (_, i) => `Pagina ${50 + i}`));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Exportar CSV' }).click(),
    ]);
    const csv = await download.createReadStream().then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('Cliente,Telefone,Status,Tentativas,Erro');
    expect(lines).toHaveLength(11);
    expect(lines[1]).toMatch(/^Pagina 50,\+55/);
  });

  it("shows the API's message when a filter or the pager fails to reload, and nothing goes uncaught", async () => {
    const { queueId } = await s.sendBatch(tenant, 60, 'Recusa');
    const refused = messageFor('RATE_LIMITED');
    const refuse = (route: Route) =>
      route.fulfill({
        status: 429,
        contentType: 'application/json',
        body: JSON.stringify({ success: false, code: 'RATE_LIMITED', message: refused }),
      });
    const shown = () => page.getByRole('status').filter({ hasText: refused });
    await login(tenant.key);
    await loaded('Visão geral');

    // Filas: the reload of a status filter is refused.
    await page.getByRole('link', { name: 'Filas' }).click();
    await loaded('Filas');
    await page.route(/\/queues\?.*status=paused/, refuse);
    await page.getByLabel('Status').selectOption('paused');
    await shown().waitFor();

    // A queue's contacts: the next page is refused, the pager stays put, and a retry goes through.
    await page.goto(`${s.test.url}/dashboard#/filas/${queueId}`);
    await page.locator('main table tbody tr').nth(49).waitFor();
    await page.route(/\/contacts\?.*cursor=/, refuse);
    await page.getByRole('button', { name: 'Próxima' }).click();
    await shown().waitFor();
    expect(await page.getByText('Página 1').count()).toBe(1);
    await page.unroute(/\/contacts\?.*cursor=/);
    await page.getByRole('button', { name: 'Próxima' }).click();
    await page.getByText('Página 2').waitFor();
    expect(await shown().count()).toBe(0);

    expect(pageErrors).toEqual([]);
  });

  it("shows a contact's rendered message and a reply sent through the simulator, with its intent", async () => {
    const { queueId, numbers } = await s.sendBatch(tenant, 1, 'Conversa');
    await s.waitForStatus(tenant, queueId, ['completed']);
    await s.simulator.reply({
      instance: tenant.instance,
      number: numbers[0] as string,
      text: 'Vou pagar amanhã',
      quote: true,
    });
    await login(tenant.key);
    await page.goto(`${s.test.url}/dashboard#/filas/${queueId}/contatos/0`);

    await page.getByRole('heading', { name: 'Conversa 0' }).waitFor();
    expect(await page.locator('blockquote').textContent()).toContain('Aviso de teste');
    await page.getByText('Vou pagar amanhã').waitFor({ timeout: 15_000 });
    await page.getByText('Promete pagar (promise_to_pay)').waitFor({ timeout: 15_000 });
    await page.locator('.timeline').getByText('Enviada').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'contato.png'), fullPage: true });
  });

  it('offers "Marcar como pago" next to a reply that says the debt was paid, and cancels the waiting reminder of that invoice', async () => {
    // Prepare: a reminder went out and the debtor answers that she paid; another reminder of the same
    // invoice waits for business hours (a window that never opens during the test).
    const payer = await newTenant();
    await setBusinessHours(s.test.container, payer.tenantId, calendarClosedNow());
    const phone = '5511976543210';
    const post = (type: 'notification' | 'overdue', extra: Record<string, string>) =>
      s.test.post(
        `${API}/send/${type}`,
        {
          external_id: `paid-${type}-${Date.now()}`,
          contacts: [
            { nome_cliente: 'Paula Pagadora', telefone: phone, numero_fatura: 'NF-2025-9', ...extra },
          ],
        },
        { key: payer.key },
      );
    const first = await post('notification', { mensagem: 'Sua fatura NF-2025-9 venceu' });
    await s.waitForStatus(payer, first.body.queue_id, ['completed']);
    await s.simulator.reply({
      instance: payer.instance,
      number: phone,
      text: 'Já paguei ontem',
      quote: true,
    });
    const waiting = await post('overdue', { valor: 'R$ 80,00', data_vencimento: '01/12/2025' });
    const waitingId = waiting.body.queue_id as string;
    await s.waitForStatus(payer, waitingId, ['scheduled']);
    await login(payer.key);
    await page.goto(`${s.test.url}/dashboard#/filas/${waitingId}/contatos/0`);
    await page.getByRole('heading', { name: 'Paula Pagadora' }).waitFor();
    await page.getByText('Diz que pagou (paid_claim)').waitFor({ timeout: 15_000 });

    // Act
    await page.getByRole('button', { name: 'Marcar como pago' }).click();

    // Assess
    await page.getByRole('status').getByText('Pagamento registrado: 1 lembrete(s) cancelado(s)').waitFor();
    await page.getByText('Cancelada: fatura paga').waitFor();
    await page.getByText('Marcado como pago').waitFor();
    expect(await page.getByRole('button', { name: 'Marcar como pago' }).count()).toBe(0);
    const contacts = await s.test.get(`${API}/queue/${waitingId}/contacts`, { key: payer.key });
    expect(contacts.body.contacts[0]).toMatchObject({ status: 'cancelled', cancel_reason: 'paid' });
    expect((await s.status(payer, waitingId)).status).toBe('completed');
    await page.screenshot({ path: join(SCREENSHOTS, 'contato-pago.png'), fullPage: true });
  });

  it("shows today's figures from the tenant's counters: the sends, their receipts and a reply", async () => {
    const counted = await newTenant();
    const { queueId, numbers } = await s.sendBatch(counted, 2, 'Numeros');
    await s.waitForStatus(counted, queueId, ['completed']);
    await s.simulator.reply({
      instance: counted.instance,
      number: numbers[0] as string,
      text: 'Já paguei',
      quote: true,
    });
    await waitFor(
      async () => {
        const { totals } = (await s.test.get(`${API}/stats`, { key: counted.key })).body;
        return totals?.read === 2 && totals?.replied === 1;
      },
      { what: 'the receipts and the reply in the figures' },
    );

    await login(counted.key);
    await loaded('Visão geral');

    const today = page.getByRole('region', { name: 'Hoje' });
    const figure = (label: string) =>
      today.locator('li', { hasText: label }).locator('.figure').textContent();
    expect(
      await Promise.all(['Enviadas', 'Entregues', 'Lidas', 'Respondidas', 'Falhas'].map(figure)),
    ).toEqual(['2', '2', '2', '1', '0']);
  });

  it('adds an opt-out that the next POST refuses, finds it by phone, and removes it', async () => {
    const phone = '11 96543-2109';
    await login(tenant.key);
    await page.getByRole('link', { name: 'Opt-outs' }).click();
    await page.getByLabel('Telefone', { exact: true }).fill(phone);
    await page.getByLabel('Motivo').fill('Pediu por telefone');
    await page.getByRole('button', { name: 'Incluir' }).click();
    await page.getByText(`Telefone ${phone} incluído na lista de opt-out.`).waitFor();
    await page.getByRole('cell', { name: '+5511965432109', exact: true }).waitFor();

    const refused = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `optout-${Date.now()}`,
        contacts: [{ nome_cliente: 'Fulano', telefone: phone, mensagem: 'Aviso' }],
      },
      { key: tenant.key },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toMatchObject([{ code: 'OPTED_OUT' }]);

    await page.getByLabel('Buscar telefone').fill('65432');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.getByRole('button', { name: 'Remover +5511965432109' }).click();
    await page.getByText('Telefone +5511965432109 removido da lista de opt-out.').waitFor();
    await page.getByText('Nenhum telefone na lista.').waitFor();
  });

  it('fits a 390 x 844 phone on every page without scrolling sideways', async () => {
    const { queueId } = await s.sendBatch(tenant, 2, 'Telefone');
    const external = (await s.waitForStatus(tenant, queueId, ['completed'])).external_id;
    await login(tenant.key);
    // The earlier tests' batches give the overview figures worth a picture.
    await loaded('Visão geral');
    await page.screenshot({ path: join(SCREENSHOTS, 'visao-geral.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, heading] of everyPage(queueId, external, 'Telefone 0')) {
      await page.goto(`${s.test.url}/dashboard${hash}`);
      await loaded(heading);
      expect(await scrollsSideways(page), hash).toBe(false);
      expect(await seriousAccessibilityViolations(page), hash).toEqual([]);
    }
    await page.goto(`${s.test.url}/dashboard#/filas/${queueId}`);
    await loaded(`Fila ${external}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'fila-celular.png'), fullPage: true });
  });

  it('has no serious or critical accessibility violations on any page, login included (axe-core)', async () => {
    const { queueId } = await s.sendBatch(tenant, 2, 'Acessivel');
    const external = (await s.waitForStatus(tenant, queueId, ['completed'])).external_id;
    await page.goto(`${s.test.url}/dashboard`);
    await page.getByLabel('Chave da API').waitFor();
    expect(await seriousAccessibilityViolations(page), 'login').toEqual([]);
    await login(tenant.key);
    await loaded('Visão geral');
    for (const [hash, heading] of everyPage(queueId, external, 'Acessivel 0')) {
      await page.goto(`${s.test.url}/dashboard${hash}`);
      await loaded(heading);
      expect(await seriousAccessibilityViolations(page), hash).toEqual([]);
    }
  });

  it('can be used with the keyboard alone: log in, reach Filas, open a queue', async () => {
    const { queueId } = await s.sendBatch(tenant, 1, 'Teclado');
    const external = (await s.waitForStatus(tenant, queueId, ['completed'])).external_id;
    await page.goto(`${s.test.url}/dashboard`);
    await page.getByLabel('Chave da API').waitFor();

    // The key field has the focus on arrival; Enter submits.
    await page.keyboard.type(tenant.key);
    await page.keyboard.press('Enter');
    await loaded('Visão geral');
    // Tab through the header to the Filas link.
    const focusedText = () => inPage<string>(page, 'document.activeElement?.textContent ?? ""');
    for (let i = 0; i < 10 && (await focusedText()) !== 'Filas'; i++) await page.keyboard.press('Tab');
    expect(await focusedText()).toBe('Filas');
    await page.keyboard.press('Enter');
    await loaded('Filas');
    for (let i = 0; i < 20 && (await focusedText()) !== external; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    await loaded(`Fila ${external}`);
  });
});
