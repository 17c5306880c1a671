import { describe, expect, it } from 'vitest';
import {
  checkDueDateForType,
  type DueDateVariables,
  enrichDueDate,
  formatBrDate,
  localDateIn,
  parseDueDate,
} from '../../lib/domain/due-date.ts';
import type { TemplateType } from '../../lib/domain/types.ts';

describe('parseDueDate', () => {
  it.each([
    ['05/12/2026', '2026-12-05'],
    ['2026-12-05', '2026-12-05'],
    ['5/1/2026', '2026-01-05'],
    ['05/1/2026', '2026-01-05'],
    ['  31/12/2026 ', '2026-12-31'],
    ['\t2026-01-31\n', '2026-01-31'],
    ['29/02/2028', '2028-02-29'],
    ['2028-02-29', '2028-02-29'],
    ['29/02/2000', '2000-02-29'],
    ['30/04/2026', '2026-04-30'],
    ['01/01/1900', '1900-01-01'],
  ])('reads %j as %s', (input, expected) => {
    // Act
    const result = parseDueDate(input);

    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it.each([
    '31/02/2026',
    '29/02/2025',
    '29/02/2100',
    '2025-02-29',
    '31/04/2026',
    '15/13/2026',
    '2026-13-01',
    '00/12/2026',
    '2026-12-00',
    '05/00/2026',
    '32/01/2026',
    '',
    '   ',
    '05-12-2026',
    '05.12.2026',
    '05/12/26',
    '2026/12/05',
    '2026-1-5',
    '2026-12-05T00:00:00Z',
    '20261205',
    '005/12/2026',
    'amanhã',
    '05/12/0226',
    '05/12/3026',
  ])('refuses %j with INVALID_DATE and the value it was given', (input) => {
    // Act
    const result = parseDueDate(input);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_DATE');
    expect(result.error.params).toEqual({ value: input.trim() });
  });
});

describe('localDateIn', () => {
  it('keeps the same day at 23:30 in Sao Paulo although UTC is already the next day', () => {
    // Prepare: 23:30 on 2026-12-05 in Sao Paulo (UTC-3, no DST since 2019)
    const at = new Date('2026-12-06T02:30:00Z');

    // Act
    const date = localDateIn('America/Sao_Paulo', at);

    // Assess
    expect(date).toBe('2026-12-05');
  });

  it('moves to the next day at 00:30 in Sao Paulo', () => {
    // Prepare: 00:30 on 2026-12-06 in Sao Paulo
    const at = new Date('2026-12-06T03:30:00Z');

    // Act
    const date = localDateIn('America/Sao_Paulo', at);

    // Assess
    expect(date).toBe('2026-12-06');
  });

  it('crosses a year boundary by the zone, not by UTC', () => {
    // Prepare: 2027-01-01 01:00 UTC is still New Year's Eve in Sao Paulo, already New Year in Tokyo
    const at = new Date('2027-01-01T01:00:00Z');

    // Act
    const saoPaulo = localDateIn('America/Sao_Paulo', at);
    const tokyo = localDateIn('Asia/Tokyo', at);
    const utc = localDateIn('UTC', at);

    // Assess
    expect(saoPaulo).toBe('2026-12-31');
    expect(tokyo).toBe('2027-01-01');
    expect(utc).toBe('2027-01-01');
  });

  it('pads single-digit months and days', () => {
    // Act
    const date = localDateIn('America/Manaus', new Date('2026-03-04T12:00:00Z'));

    // Assess
    expect(date).toBe('2026-03-04');
  });

  it('throws for an unknown zone, which configuration validation should have refused', () => {
    // Act
    const act = () => localDateIn('America/Nowhere', new Date('2026-03-04T12:00:00Z'));

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('enrichDueDate', () => {
  it.each<[string, string, DueDateVariables]>([
    ['2026-12-05', '2026-12-05', { dias_atraso: 0, dias_para_vencer: 0, status_vencimento: 'vence_hoje' }],
    ['2026-12-04', '2026-12-05', { dias_atraso: 1, dias_para_vencer: 0, status_vencimento: 'vencido' }],
    ['2026-12-06', '2026-12-05', { dias_atraso: 0, dias_para_vencer: 1, status_vencimento: 'a_vencer' }],
    ['2026-11-30', '2026-12-05', { dias_atraso: 5, dias_para_vencer: 0, status_vencimento: 'vencido' }],
    ['2027-01-02', '2026-12-30', { dias_atraso: 0, dias_para_vencer: 3, status_vencimento: 'a_vencer' }],
    ['2026-12-31', '2027-01-01', { dias_atraso: 1, dias_para_vencer: 0, status_vencimento: 'vencido' }],
    ['2028-03-01', '2028-02-28', { dias_atraso: 0, dias_para_vencer: 2, status_vencimento: 'a_vencer' }],
    ['2026-03-01', '2026-02-28', { dias_atraso: 0, dias_para_vencer: 1, status_vencimento: 'a_vencer' }],
    ['2025-12-05', '2026-12-05', { dias_atraso: 365, dias_para_vencer: 0, status_vencimento: 'vencido' }],
    ['2028-12-05', '2027-12-05', { dias_atraso: 0, dias_para_vencer: 366, status_vencimento: 'a_vencer' }],
    // Across the US spring-forward and Brazil's old DST dates: days stay whole.
    ['2026-03-09', '2026-03-07', { dias_atraso: 0, dias_para_vencer: 2, status_vencimento: 'a_vencer' }],
    ['2018-11-03', '2018-11-05', { dias_atraso: 2, dias_para_vencer: 0, status_vencimento: 'vencido' }],
  ])('computes due %s seen on %s', (due, today, expected) => {
    // Act
    const variables = enrichDueDate(due, today);

    // Assess
    expect(variables).toEqual(expected);
  });

  it('counts days in the tenant zone when combined with localDateIn at 23:30 local', () => {
    // Prepare: due on the 5th, checked at 23:30 of the 5th in Sao Paulo (02:30Z on the 6th)
    const today = localDateIn('America/Sao_Paulo', new Date('2026-12-06T02:30:00Z'));

    // Act
    const variables = enrichDueDate('2026-12-05', today);

    // Assess
    expect(variables.status_vencimento).toBe('vence_hoje');
  });

  it('throws on a date that is not yyyy-mm-dd, since callers pass parsed dates', () => {
    // Act
    const act = () => enrichDueDate('05/12/2026', '2026-12-05');

    // Assess
    expect(act).toThrow(/yyyy-mm-dd/);
  });
});

describe('checkDueDateForType', () => {
  it.each<[TemplateType, DueDateVariables['status_vencimento']]>([
    ['overdue', 'vencido'],
    ['upcoming', 'vence_hoje'],
    ['upcoming', 'a_vencer'],
    ['notification', 'vencido'],
    ['notification', 'vence_hoje'],
    ['notification', 'a_vencer'],
  ])('accepts a %s bill with status %s', (type, status) => {
    // Act
    const result = checkDueDateForType(type, status);

    // Assess
    expect(result).toEqual({ ok: true, value: undefined });
  });

  it.each<[TemplateType, DueDateVariables['status_vencimento'], string]>([
    ['overdue', 'vence_hoje', 'DUE_DATE_NOT_PAST'],
    ['overdue', 'a_vencer', 'DUE_DATE_NOT_PAST'],
    ['upcoming', 'vencido', 'DUE_DATE_PAST'],
  ])('refuses a %s bill with status %s with %s', (type, status, code) => {
    // Act
    const result = checkDueDateForType(type, status);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
  });
});

describe('formatBrDate', () => {
  it.each([
    ['2026-11-01', '01/11/2026'],
    ['2027-01-31', '31/01/2027'],
  ])('writes %s as %s', (iso, expected) => {
    // Act
    const text = formatBrDate(iso);

    // Assess
    expect(text).toBe(expected);
  });
});
