import { describe, expect, it } from 'vitest';
import { planColumns } from '../../lib/import/column-mapping.ts';
import { detectDelimiter, isBlankRow, rowToContact } from '../../lib/import/spreadsheet-row.ts';

describe('detectDelimiter', () => {
  it.each([
    ['Nome;Telefone;Valor', ';'],
    ['nome,telefone,valor', ','],
    ['nome\ttelefone\tvalor', '\t'],
    ['"Silva, João";Telefone', ';'],
    ['"a;b",c,d', ','],
    ['nome', ';'],
    ['nome;telefone,valor', ';'],
  ])('finds the delimiter of %j', (line, delimiter) => {
    expect(detectDelimiter(line)).toBe(delimiter);
  });
});

describe('isBlankRow', () => {
  it.each([
    [[''], true],
    [['', ' ', '\t'], true],
    [['', 'x'], false],
  ])('%j is blank: %s', (cells, blank) => {
    expect(isBlankRow(cells)).toBe(blank);
  });
});

describe('rowToContact', () => {
  const plan = planColumns(['Nome', 'Celular', 'Vencimento', 'Valor', 'Fatura', 'Link', 'CPF']);

  it('sends the filled cells of the planned columns as the spreadsheet has them, trimmed', () => {
    // Act
    const row = rowToContact(
      [' João Silva ', '(11) 98888-7777', '10/12/2025', '1.234,56', 'F-1', '', '123.456.789-00'],
      plan,
    );

    // Assess
    expect(row).toEqual({
      ok: true,
      contact: {
        nome_cliente: 'João Silva',
        telefone: '(11) 98888-7777',
        data_vencimento: '10/12/2025',
        valor: '1.234,56',
        numero_fatura: 'F-1',
      },
    });
  });

  it.each([
    ['2025-12-10 00:00:00', '2025-12-10'],
    ['10/12/2025 00:00', '10/12/2025'],
    ['2025-12-10T00:00:00.000', '2025-12-10'],
  ])('reads the due date %j as %j (a date cell exported as midnight)', (cell, sent) => {
    // Act
    const row = rowToContact(['Ana', '11988887777', cell], plan);

    // Assess
    expect(row.ok && row.contact.data_vencimento).toBe(sent);
  });

  it('takes a row shorter than the header (an export that drops trailing empty cells)', () => {
    expect(rowToContact(['Ana', '11988887777'], plan)).toEqual({
      ok: true,
      contact: { nome_cliente: 'Ana', telefone: '11988887777' },
    });
  });

  it('takes trailing empty cells beyond the header, but refuses a filled one', () => {
    // Act
    const trailing = rowToContact(['Ana', '11988887777', '', '', '', '', '', '', ''], plan);
    const shifted = rowToContact(['Silva', ' João', '11988887777', '10/12/2025', '10', 'F', '', 'cpf'], plan);

    // Assess
    expect(trailing.ok).toBe(true);
    expect(shifted).toEqual({
      ok: false,
      rejection: {
        code: 'TOO_MANY_COLUMNS',
        message:
          'A linha tem 8 colunas preenchidas e o cabeçalho tem 7; um separador dentro de um campo sem aspas?',
      },
    });
  });

  it("refuses what the API's schema would refuse for the whole batch, in Portuguese, naming each field", () => {
    // Act
    const row = rowToContact(['', '11988887777', '', '', '', 'pagar aqui'], plan);

    // Assess
    expect(row).toEqual({
      ok: false,
      rejection: {
        code: 'VALIDATION_FAILED',
        message:
          'Dados inválidos: nome_cliente: Campo obrigatório; link_pagamento: URL inválida (use http:// ou https://)',
      },
    });
  });

  it('sends a mapped template variable and refuses one longer than the API takes', () => {
    // Prepare
    const withVariable = planColumns(['Nome', 'Celular', 'Loja'], new Map([['loja', 'loja']]));

    // Act
    const ok = rowToContact(['Ana', '11988887777', 'Centro'], withVariable);
    const long = rowToContact(['Ana', '11988887777', 'x'.repeat(501)], withVariable);

    // Assess
    expect(ok).toEqual({
      ok: true,
      contact: { nome_cliente: 'Ana', telefone: '11988887777', loja: 'Centro' },
    });
    expect(long.ok === false && long.rejection.message).toBe(
      'Dados inválidos: loja: Máximo de 500 caracteres',
    );
  });
});
