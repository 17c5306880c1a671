import { describe, expect, it } from 'vitest';
import { formatBrl, normalizeMoney, parseBrlAmount } from '../../lib/domain/money.ts';

describe('formatBrl', () => {
  it.each([
    [1234.56, 'R$ 1.234,56'],
    [150, 'R$ 150,00'],
    [0.5, 'R$ 0,50'],
    [0, 'R$ 0,00'],
    [-0, 'R$ 0,00'],
    [1234567.891, 'R$ 1.234.567,89'],
    [99.9, 'R$ 99,90'],
  ])('formats %d as %s', (value, expected) => {
    // Act
    const text = formatBrl(value);

    // Assess
    expect(text).toBe(expected);
  });

  it('separates the currency sign with a plain space, as ERPs type it', () => {
    // Act
    const text = formatBrl(10);

    // Assess
    expect(text).not.toMatch(/[\u00A0\u202F]/);
    expect(text.charAt(2)).toBe(' ');
  });
});

describe('normalizeMoney', () => {
  it.each([
    ['R$ 1.234,56', 'R$ 1.234,56'],
    ['  R$ 150,00 ', 'R$ 150,00'],
    ['r$150', 'R$ 150,00'],
    ['1234,56', 'R$ 1.234,56'],
    ['1234,5', 'R$ 1.234,50'],
    ['1234.56', 'R$ 1.234,56'],
    ['150.00', 'R$ 150,00'],
    ['1,234.56', 'R$ 1.234,56'],
    ['1.234', 'R$ 1.234,00'],
    ['12.345.678,9', 'R$ 12.345.678,90'],
    ['10', 'R$ 10,00'],
    ['0,5', 'R$ 0,50'],
  ])('reads the ERP text %j as %j', (input, expected) => {
    // Act
    const result = normalizeMoney(input);

    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it.each([
    'abc',
    'US$ 10',
    '10 reais',
    '1,234',
    '1.234,567',
    '1.23.45',
    '1.2345',
    '12,34,56',
    '-10',
    '- R$ 5,00',
    ',50',
    '10,',
    '1e3',
    '99999999999999999999',
  ])('refuses %j, which is not an amount, with INVALID_MONEY and the value', (input) => {
    // Act
    const result = normalizeMoney(input);

    // Assess
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'INVALID_MONEY' }) });
    if (!result.ok) expect(result.error.params).toEqual({ value: input });
  });

  it.each([
    [1234.56, 'R$ 1.234,56'],
    [150, 'R$ 150,00'],
    [0.5, 'R$ 0,50'],
    [0, 'R$ 0,00'],
  ])('formats the number %d as %s', (input, expected) => {
    // Act
    const result = normalizeMoney(input);

    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it.each(['', '   ', '\t\n'])('refuses the empty text %j with INVALID_MONEY', (input) => {
    // Act
    const result = normalizeMoney(input);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_MONEY');
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [-0.01, '-0.01'],
    [-150, '-150'],
  ])('refuses the number %d with INVALID_MONEY and its value', (input, value) => {
    // Act
    const result = normalizeMoney(input);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_MONEY');
    expect(result.error.params).toEqual({ value });
    expect(result.error.message).toBe(`Valor inválido: ${value}`);
  });
});

describe('parseBrlAmount', () => {
  it.each([
    ['R$ 1.234,56', 1234.56],
    ['1.234', 1234],
    ['1234.5', 1234.5],
    ['0', 0],
  ])('reads %j as %d', (input, expected) => {
    // Act
    const value = parseBrlAmount(input);

    // Assess
    expect(value).toBe(expected);
  });
});
