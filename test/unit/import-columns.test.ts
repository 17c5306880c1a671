import { describe, expect, it } from 'vitest';
import {
  foldName,
  ImportUsageError,
  parseColumnMap,
  planColumns,
  plansField,
} from '../../lib/import/column-mapping.ts';

describe('foldName', () => {
  it.each([
    ['Nome do Cliente', 'nome_do_cliente'],
    ['  TELEFONE ', 'telefone'],
    ['Código PIX', 'codigo_pix'],
    ['Nº Fatura', 'no_fatura'],
    ['Data de Vencimento', 'data_de_vencimento'],
    ['VALOR (R$)', 'valor_r'],
    ['WhatsApp', 'whatsapp'],
    ['Razão Social', 'razao_social'],
  ])('folds %j to %j', (header, folded) => {
    expect(foldName(header)).toBe(folded);
  });
});

describe('planColumns', () => {
  it("matches the guide's field names and the common aliases without regard to case or accents", () => {
    // Prepare
    const headers = [
      'Cliente',
      'CELULAR',
      'Vencimento',
      'Valor',
      'Valor Total',
      'Fatura',
      'Pix',
      'Link',
      'CPF',
    ];

    // Act
    const plan = planColumns(headers);

    // Assess
    expect(plan.targets).toEqual([
      'nome_cliente',
      'telefone',
      'data_vencimento',
      'valor',
      'valor_total',
      'numero_fatura',
      'codigo_pix',
      'link_pagamento',
      null,
    ]);
    expect(plan.ignored).toEqual(['CPF']);
  });

  it.each([
    ['nome', 'nome_cliente'],
    ['Nome Cliente', 'nome_cliente'],
    ['whatsapp', 'telefone'],
    ['Telefone', 'telefone'],
    ['Data Vencimento', 'data_vencimento'],
    ['Número da Fatura', 'numero_fatura'],
    ['Código Pix', 'codigo_pix'],
    ['Link de Pagamento', 'link_pagamento'],
  ])('takes the header %j for %s', (header, field) => {
    // Prepare
    const others = { nome_cliente: ['Celular'], telefone: ['Nome'] }[field as string] ?? ['Nome', 'Celular'];

    // Act
    const plan = planColumns([header, ...others]);

    // Assess
    expect(plan.targets).toContain(field);
  });

  it('lets --map send an unknown column as a template variable and leave another out', () => {
    // Prepare
    const map = parseColumnMap(['Empresa=empresa', 'Celular 2=-']);

    // Act
    const plan = planColumns(['Nome', 'Celular', 'Celular 2', 'EMPRESA'], map);

    // Assess
    expect(plan.targets).toEqual(['nome_cliente', 'telefone', null, 'empresa']);
    expect(plan.ignored).toEqual(['Celular 2']);
  });

  it('lets --map choose between two columns that both look like the phone', () => {
    // Prepare
    const map = parseColumnMap(['Celular=telefone']);

    // Act
    const plan = planColumns(['Nome', 'Telefone', 'Celular'], map);

    // Assess
    expect(plan.targets).toEqual(['nome_cliente', null, 'telefone']);
  });

  it('refuses two columns that would fill the same field, naming both', () => {
    // Act
    const act = () => planColumns(['Nome', 'Telefone', 'Celular']);

    // Assess
    expect(act).toThrow(ImportUsageError);
    expect(act).toThrow(/"Telefone", "Celular" would all fill telefone/);
  });

  it('refuses a header without a phone column, listing the columns it has', () => {
    // Act
    const act = () => planColumns(['Nome', 'Fone Fixo']);

    // Assess
    expect(act).toThrow(/no column for telefone: the file's columns are "Nome", "Fone Fixo"/);
  });

  it('refuses a --map that names a column the file does not have', () => {
    // Prepare
    const map = parseColumnMap(['Contato=telefone']);

    // Act
    const act = () => planColumns(['Nome', 'Celular'], map);

    // Assess
    expect(act).toThrow(/no column "contato"/);
  });

  it('tells whether a field has a column (the due date of overdue reminders)', () => {
    // Act
    const plan = planColumns(['Nome', 'Celular']);

    // Assess
    expect(plansField(plan, 'telefone')).toBe(true);
    expect(plansField(plan, 'data_vencimento')).toBe(false);
  });
});

describe('parseColumnMap', () => {
  it('folds the column, resolves field aliases and keeps the last = for the target', () => {
    // Act
    const map = parseColumnMap(['Valor=Atual=valor_total', 'Dt. Venc.=vencimento', 'Loja=loja']);

    // Assess
    expect([...map]).toEqual([
      ['valor_atual', 'valor_total'],
      ['dt_venc', 'data_vencimento'],
      ['loja', 'loja'],
    ]);
  });

  it.each([
    ['Empresa', /use --map "coluna=campo"/],
    ['=telefone', /use --map "coluna=campo"/],
    ['Empresa=', /use --map "coluna=campo"/],
    ['Empresa=Nome Fantasia', /Nome de variável inválido/],
    ['Atraso=dias_atraso', /dias_atraso é calculada pelo sistema/],
  ])('refuses --map %j', (option, message) => {
    // Act
    const act = () => parseColumnMap([option]);

    // Assess
    expect(act).toThrow(ImportUsageError);
    expect(act).toThrow(message);
  });

  it('refuses one column mapped to two targets', () => {
    expect(() => parseColumnMap(['Celular=telefone', 'celular=-'])).toThrow(/twice/);
  });
});
