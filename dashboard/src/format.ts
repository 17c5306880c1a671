/** pt-BR formatting in the tenant's timezone (set once at login from GET /me). */

let timeZone = 'America/Sao_Paulo';

export const setTimeZone = (zone: string): void => {
  timeZone = zone;
};

const dateTime = () => new Intl.DateTimeFormat('pt-BR', { timeZone, dateStyle: 'short', timeStyle: 'short' });

/** `16/12/2026, 12:20` in the tenant's timezone; a dash for nothing. */
export const formatDateTime = (iso: string | null | undefined): string =>
  iso ? dateTime().format(new Date(iso)) : '—';

/** `12:20` in the tenant's timezone. */
export const formatHour = (iso: string): string =>
  new Intl.DateTimeFormat('pt-BR', { timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

export const formatNumber = (n: number): string => n.toLocaleString('pt-BR');

export const formatPercent = (ratio: number): string =>
  ratio.toLocaleString('pt-BR', { style: 'percent', maximumFractionDigits: 1 });

/** Money as the ERP sent it: a number or text such as `150,00` / `R$ 150,00`, shown as `R$ 150,00`. */
export const formatMoney = (value: string | number | undefined): string => {
  if (value === undefined || value === '') return '—';
  const amount =
    typeof value === 'number'
      ? value
      : Number(
          value
            .replace(/[R$\s]/g, '')
            .replace(/\.(?=\d{3}(\D|$))/g, '')
            .replace(',', '.'),
        );
  return Number.isFinite(amount)
    ? amount.toLocaleString('pt-BR', { style: 'currency', currency: 'BRL' })
    : String(value);
};

/** Local midnight of today in the tenant's timezone, as an instant. */
export const startOfTenantDay = (now = new Date()): Date => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(now)
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const wallClock = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour,
    parts.minute,
    parts.second,
  );
  const offset = wallClock - Math.floor(now.getTime() / 1000) * 1000;
  return new Date(Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1) - offset);
};
