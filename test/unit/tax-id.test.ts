import { describe, expect, it } from 'vitest';
import { findTaxId, parseTaxId } from '../../lib/domain/tax-id.ts';

describe('parseTaxId', () => {
  it.each([
    ['11.222.333/0001-81', 'cnpj', '11.222.333/0001-81'],
    ['11222333000181', 'cnpj', '11.222.333/0001-81'],
    [' 11 222 333 0001 81 ', 'cnpj', '11.222.333/0001-81'],
    // The Receita Federal's example of an alphanumeric CNPJ (issued from July 2026).
    ['12.ABC.345/01DE-35', 'cnpj', '12.ABC.345/01DE-35'],
    ['12abc34501de35', 'cnpj', '12.ABC.345/01DE-35'],
    ['529.982.247-25', 'cpf', '529.982.247-25'],
    ['52998224725', 'cpf', '529.982.247-25'],
  ])('reads %s as a %s, formatted %s', (text, kind, formatted) => {
    expect(parseTaxId(text)).toEqual({ kind, formatted });
  });

  it.each([
    ['a CNPJ with a wrong first check digit', '11.222.333/0001-91'],
    ['a CNPJ with a wrong second check digit', '11.222.333/0001-82'],
    ['an alphanumeric CNPJ with wrong check digits', '12.ABC.345/01DE-36'],
    ['a CPF with wrong check digits', '529.982.247-26'],
    ['one repeated digit (CNPJ length)', '00.000.000/0000-00'],
    ['one repeated digit (CPF length)', '111.111.111-11'],
    ['too few digits', '1122233300018'],
    ['letters in the check digits', '12.ABC.345/01DE-3A'],
    ['empty text', ''],
  ])('refuses %s', (_label, text) => {
    expect(parseTaxId(text)).toBeUndefined();
  });
});

describe('findTaxId', () => {
  it('finds a valid CNPJ or CPF written in a sentence', () => {
    expect(findTaxId('Loja X, CNPJ 11.222.333/0001-81.')?.formatted).toBe('11.222.333/0001-81');
    expect(findTaxId('CPF 529.982.247-25, obrigado')?.kind).toBe('cpf');
  });

  it('ignores invalid numbers and digits inside a longer number', () => {
    expect(findTaxId('CNPJ 11.222.333/0001-82')).toBeUndefined();
    expect(findTaxId('pedido 1122233300018100')).toBeUndefined();
  });
});
