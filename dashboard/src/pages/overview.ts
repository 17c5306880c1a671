import {
  api,
  type InstancesResponse,
  type MeResponse,
  type Queue,
  type QueueListResponse,
  query,
  type StatsResponse,
} from '../api.ts';
import { chartLegend, hourlyChart } from '../chart.ts';
import { fill, h, progressBar, table } from '../dom.ts';
import { formatDateTime, formatHour, formatNumber, formatPercent, startOfTenantDay } from '../format.ts';
import type { MountPage } from '../page.ts';

/** Visão geral: today's figures, the last 24 hours per hour, the instances and the active queues. */

const FIGURES = [
  ['sent', 'Enviadas'],
  ['delivered', 'Entregues'],
  ['read', 'Lidas'],
  ['replied', 'Respondidas'],
  ['failed', 'Falhas'],
  ['stalled', 'Paradas'],
  ['opted_out', 'Opt-outs'],
] as const;

const ACTIVE = new Set(['pending', 'scheduled', 'running', 'instance_down', 'paused']);

const CONNECTION: Record<string, string> = {
  open: 'Conectada',
  connecting: 'Conectando',
  close: 'Desconectada',
  unknown: 'Desconhecido',
};

/** A new number's ramp today: `Dia 2: 12 de 60 hoje`; `—` for an old number. */
const warmupText = (warmup: InstancesResponse['instances'][number]['warmup']): string => {
  if (!warmup) return '—';
  if (warmup.daily_cap === null) return `Concluído (dia ${warmup.day})`;
  return `Dia ${warmup.day}: ${formatNumber(warmup.sent_today)} de ${formatNumber(warmup.daily_cap)} hoje`;
};

export const queueLink = (q: Queue) => h('a', { href: `#/filas/${q.id}` }, q.external_id);

export const mountOverview: MountPage = async (main) => {
  const hours = h('p', { class: 'hours' });
  const figures = h('section', { 'aria-labelledby': 'hoje' });
  const chart = h('section', { 'aria-labelledby': 'grafico' });
  const instances = h('section', { 'aria-labelledby': 'instancias' });
  const queues = h('section', { 'aria-labelledby': 'ativas' });
  main.append(h('h1', {}, 'Visão geral'), hours, figures, chart, instances, queues);

  const refresh = async () => {
    const [me, today, last24, inst, list] = await Promise.all([
      api<MeResponse>('/me'),
      api<StatsResponse>(`/stats${query({ from: startOfTenantDay().toISOString(), bucket: 'day' })}`),
      api<StatsResponse>('/stats'),
      api<InstancesResponse>('/instances'),
      api<QueueListResponse>('/queues?limit=50'),
    ]);
    const bh = me.business_hours;
    hours.textContent = !bh
      ? 'Sem horário comercial cadastrado.'
      : bh.open_now
        ? 'Horário comercial: aberto agora.'
        : `Horário comercial: fechado; abre ${formatDateTime(bh.next_opening)}.`;
    fill(
      figures,
      h('h2', { id: 'hoje' }, 'Hoje'),
      h(
        'ul',
        { class: 'figures' },
        ...FIGURES.map(([key, label]) =>
          h('li', {}, h('span', { class: 'figure' }, formatNumber(today.totals[key])), h('span', {}, label)),
        ),
      ),
    );
    fill(
      chart,
      h('h2', { id: 'grafico' }, 'Últimas 24 horas, por hora'),
      hourlyChart(last24.buckets),
      h(
        'p',
        { class: 'legend' },
        ...chartLegend().map((label, i) => h('span', { class: `key k${i}` }, label)),
      ),
      h(
        'details',
        {},
        h('summary', {}, 'Ver os números'),
        table(
          'Envios por hora',
          ['Hora', 'Enviadas', 'Entregues', 'Lidas', 'Falhas', 'Taxa de falha'],
          last24.buckets.map((b) => [
            formatHour(b.start),
            b.sent,
            b.delivered,
            b.read,
            b.failed,
            formatPercent(b.failure_rate),
          ]),
        ),
      ),
    );
    fill(
      instances,
      h('h2', { id: 'instancias' }, 'Instâncias do WhatsApp'),
      inst.instances.length
        ? table(
            'Instâncias',
            ['Instância', 'Conexão', 'Ritmo', 'Hoje', 'Aquecimento', 'Último erro'],
            inst.instances.map((i) => [
              i.instance_name,
              CONNECTION[i.connection_state] ?? i.connection_state,
              `${formatNumber(i.messages_per_minute)}/min`,
              formatNumber(i.messages_today),
              warmupText(i.warmup),
              i.last_error ? `${i.last_error.message} (${formatDateTime(i.last_error.at)})` : '—',
            ]),
          )
        : h('p', {}, 'Nenhuma instância cadastrada.'),
    );
    const active = list.queues.filter((q) => ACTIVE.has(q.status));
    fill(
      queues,
      h('h2', { id: 'ativas' }, 'Filas ativas'),
      active.length
        ? table(
            'Filas ativas',
            ['Fila', 'Status', 'Progresso', 'Previsão'],
            active.map((q) => [
              queueLink(q),
              q.status_display,
              progressBar(q.progress_percent, `Progresso de ${q.external_id}`),
              formatDateTime(q.eta ?? q.next_run_at),
            ]),
          )
        : h('p', {}, 'Nenhuma fila ativa agora.'),
    );
  };
  await refresh();
  // Five reads a refresh: every 30 s keeps an open overview at 600 requests an hour.
  return { title: 'Visão geral', refresh, refreshMs: 30_000 };
};
