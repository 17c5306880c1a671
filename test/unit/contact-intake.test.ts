import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ContactInput, type IntakeContext, takeInContacts } from '../../lib/domain/contact-intake.ts';
import { messageFor } from '../../lib/domain/errors.ts';

/** Tenant-local today of every case: Wednesday 2026-12-16. */
const TODAY = '2026-12-16';

const ctx = (overrides: Partial<IntakeContext> = {}): IntakeContext => ({
  templateType: 'overdue',
  today: TODAY,
  allowLandlines: false,
  requiredVariables: ['nome_cliente', 'valor', 'data_vencimento'],
  ...overrides,
});

const contact = (overrides: Partial<ContactInput> = {}): ContactInput => ({
  nome_cliente: 'João Silva',
  telefone: '+5511999999999',
  valor: 'R$ 150,00',
  data_vencimento: '10/12/2026',
  numero_fatura: 'NF-1',
  ...overrides,
});

describe('takeInContacts', () => {
  it('accepts a valid contact with its E.164 phone, trimmed name, invoice and calculated variables', () => {
    // Act
    const result = takeInContacts(
      [contact({ nome_cliente: '  João Silva ', telefone: '(11) 99999-9999', numero_fatura: ' NF-9 ' })],
      ctx(),
    );

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([
      {
        index: 0,
        phone: '+5511999999999',
        name: 'João Silva',
        invoiceNumber: 'NF-9',
        variables: {
          nome_cliente: 'João Silva',
          telefone: '(11) 99999-9999',
          valor: 'R$ 150,00',
          data_vencimento: '10/12/2026',
          numero_fatura: 'NF-9',
          dias_atraso: 6,
          dias_para_vencer: 0,
          status_vencimento: 'vencido',
        },
      },
    ]);
  });

  it('formats numeric money as reais and keeps the ERP spelling of text money', () => {
    // Act
    const [accepted] = takeInContacts(
      [contact({ valor: 1234.56, valor_total: ' R$ 1.300,00 ' })],
      ctx(),
    ).accepted;

    // Assess
    expect(accepted?.variables.valor).toBe('R$ 1.234,56');
    expect(accepted?.variables.valor_total).toBe('R$ 1.300,00');
  });

  it('writes the due date the Brazilian way, whatever format it came in, beside the calculated values', () => {
    // Act
    const { accepted } = takeInContacts(
      [
        contact({ data_vencimento: '2026-12-01' }),
        contact({ data_vencimento: '5/12/2026', numero_fatura: 'NF-2' }),
      ],
      ctx(),
    );

    // Assess
    expect(accepted.map((c) => [c.variables.data_vencimento, c.variables.dias_atraso])).toEqual([
      ['01/12/2026', 15],
      ['05/12/2026', 11],
    ]);
  });

  it('turns extra text fields into variables, ignores non-text extras, and lets the guide fields win', () => {
    // Act
    const [accepted] = takeInContacts(
      [contact({ contrato: ' C-77 ', parcelas: 3, dados: { a: 1 }, dias_atraso: '999' })],
      ctx(),
    ).accepted;

    // Assess
    expect(accepted?.variables).toMatchObject({ contrato: 'C-77', dias_atraso: 6 });
    expect(accepted?.variables).not.toHaveProperty('parcelas');
    expect(accepted?.variables).not.toHaveProperty('dados');
  });

  it("gives every contact the tenant's fixed variables, over what the ERP sent, and counts them as required", () => {
    // Act
    const [accepted] = takeInContacts(
      [contact({ empresa: 'Outra SA', contrato: 'C-1' })],
      ctx({
        requiredVariables: ['nome_cliente', 'empresa', 'cnpj'],
        fixedVariables: { empresa: 'ACME Ltda', cnpj: '11.222.333/0001-81' },
      }),
    ).accepted;

    // Assess
    expect(accepted?.variables).toMatchObject({
      empresa: 'ACME Ltda',
      cnpj: '11.222.333/0001-81',
      contrato: 'C-1',
    });
  });

  it.each([
    ['an invalid phone', { telefone: '12345' }, 'INVALID_PHONE', { value: '12345' }],
    [
      'a phone with letters',
      { telefone: 'Tel: 11 99999-9999' },
      'INVALID_PHONE',
      { value: 'Tel: 11 99999-9999' },
    ],
    ['a landline', { telefone: '(11) 3333-4444' }, 'PHONE_NOT_MOBILE', { value: '(11) 3333-4444' }],
    ['an impossible date', { data_vencimento: '31/02/2026' }, 'INVALID_DATE', { value: '31/02/2026' }],
    ['a date in another format', { data_vencimento: '12-10-2026' }, 'INVALID_DATE', { value: '12-10-2026' }],
    ['a due date not yet past', { data_vencimento: '17/12/2026' }, 'DUE_DATE_NOT_PAST', {}],
    ['a due date of today', { data_vencimento: '16/12/2026' }, 'DUE_DATE_NOT_PAST', {}],
    ['no due date', { data_vencimento: undefined }, 'DUE_DATE_REQUIRED', {}],
    ['a blank due date', { data_vencimento: '   ' }, 'DUE_DATE_REQUIRED', {}],
    ['blank text money', { valor: '  ' }, 'INVALID_MONEY', { value: '  ' }],
    ['negative money', { valor: -1 }, 'INVALID_MONEY', { value: '-1' }],
    [
      'a non-finite amount',
      { valor_total: Number.POSITIVE_INFINITY },
      'INVALID_MONEY',
      { value: 'Infinity' },
    ],
    ['an empty required value', { valor: '' }, 'MISSING_VARIABLE', { name: 'valor' }],
  ] as const)(
    'rejects an overdue contact with %s, with its code and Portuguese message',
    (_, change, code, params) => {
      // Prepare
      const raw = contact(change as Partial<ContactInput>);

      // Act
      const result = takeInContacts([raw], ctx());

      // Assess
      expect(result.accepted).toEqual([]);
      expect(result.rejected).toEqual([
        {
          index: 0,
          telefone: raw.telefone,
          code,
          message: messageFor(code, params as Record<string, string>),
        },
      ]);
    },
  );

  it('accepts a landline when the tenant allows landlines', () => {
    const result = takeInContacts([contact({ telefone: '(11) 3333-4444' })], ctx({ allowLandlines: true }));
    expect(result.accepted.map((c) => c.phone)).toEqual(['+551133334444']);
  });

  it('checks due dates by type: upcoming takes today and later, refuses the past', () => {
    // Act
    const result = takeInContacts(
      [
        contact({ data_vencimento: '16/12/2026', numero_fatura: 'A' }),
        contact({ data_vencimento: '20/12/2026', numero_fatura: 'B' }),
        contact({ data_vencimento: '15/12/2026', numero_fatura: 'C' }),
      ],
      ctx({ templateType: 'upcoming' }),
    );

    // Assess
    expect(
      result.accepted.map((c) => [c.index, c.variables.status_vencimento, c.variables.dias_para_vencer]),
    ).toEqual([
      [0, 'vence_hoje', 0],
      [1, 'a_vencer', 4],
    ]);
    expect(result.rejected).toEqual([
      { index: 2, telefone: '+5511999999999', code: 'DUE_DATE_PAST', message: messageFor('DUE_DATE_PAST') },
    ]);
  });

  it('takes notifications without a due date, and with any valid one', () => {
    // Prepare
    const notification = ctx({
      templateType: 'notification',
      requiredVariables: ['nome_cliente', 'mensagem'],
    });

    // Act
    const result = takeInContacts(
      [
        { nome_cliente: 'Ana', telefone: '+5511977776666', mensagem: 'Aviso' },
        { nome_cliente: 'Bia', telefone: '+5511977776667', mensagem: 'Aviso', data_vencimento: '01/01/2020' },
        { nome_cliente: 'Caio', telefone: '+5511977776668', mensagem: ' ' },
      ],
      notification,
    );

    // Assess
    expect(result.accepted.map((c) => c.index)).toEqual([0, 1]);
    expect(result.accepted[0]?.variables).not.toHaveProperty('dias_atraso');
    expect(result.rejected).toMatchObject([{ index: 2, code: 'MISSING_VARIABLE' }]);
    expect(result.rejected[0]?.message).toBe(messageFor('MISSING_VARIABLE', { name: 'mensagem' }));
  });

  it('names every missing required variable in one rejection', () => {
    const result = takeInContacts([contact()], ctx({ requiredVariables: ['link_pagamento', 'codigo_pix'] }));
    expect(result.rejected[0]?.message).toBe(
      messageFor('MISSING_VARIABLE', { name: 'link_pagamento, codigo_pix' }),
    );
  });

  it('rejects a phone that opted out, matching it in E.164 whatever its spelling', () => {
    // Act
    const result = takeInContacts(
      [contact({ telefone: '11 99999-9999' })],
      ctx({ optedOut: new Set(['+5511999999999']) }),
    );

    // Assess
    expect(result.rejected).toEqual([
      { index: 0, telefone: '11 99999-9999', code: 'OPTED_OUT', message: messageFor('OPTED_OUT') },
    ]);
  });

  it('rejects the second contact with the same phone and invoice, however the phone is spelled', () => {
    // Act
    const result = takeInContacts(
      [
        contact({ telefone: '+5511999999999', numero_fatura: 'NF-1' }),
        contact({ telefone: '(11) 99999-9999', numero_fatura: 'NF-1' }),
        contact({ telefone: '5511999999999', numero_fatura: 'NF-2' }),
        contact({ telefone: '+5511999999999', numero_fatura: undefined }),
        contact({ telefone: '11999999999', numero_fatura: '  ' }),
      ],
      ctx(),
    );

    // Assess: same phone with another invoice is another bill; no invoice twice is a duplicate
    expect(result.accepted.map((c) => c.index)).toEqual([0, 2, 3]);
    expect(result.rejected).toEqual([
      {
        index: 1,
        telefone: '(11) 99999-9999',
        code: 'DUPLICATE_CONTACT',
        message: messageFor('DUPLICATE_CONTACT'),
      },
      {
        index: 4,
        telefone: '11999999999',
        code: 'DUPLICATE_CONTACT',
        message: messageFor('DUPLICATE_CONTACT'),
      },
    ]);
  });

  it('does not let a rejected contact count as the first of a pair', () => {
    // Act
    const result = takeInContacts(
      [contact({ data_vencimento: '31/02/2026' }), contact({ data_vencimento: '01/12/2026' })],
      ctx(),
    );

    // Assess
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([[0, 'INVALID_DATE']]);
    expect(result.accepted.map((c) => c.index)).toEqual([1]);
  });

  it('accounts for every contact exactly once, in order, whatever the batch holds', () => {
    const phones = fc.constantFrom('+5511999999999', '11987654321', '(11) 3333-4444', '123', '');
    const dates = fc.constantFrom('01/12/2026', '20/12/2026', '16/12/2026', '31/02/2026', '', undefined);
    const contacts = fc.array(
      fc.record({
        nome_cliente: fc.constantFrom('Ana', '  ', 'Zoë 🚀'),
        telefone: phones,
        valor: fc.oneof(fc.constantFrom('R$ 1,00', '', ' '), fc.double()),
        data_vencimento: dates,
        numero_fatura: fc.constantFrom('NF-1', 'NF-2', undefined),
      }),
      { maxLength: 30 },
    );

    fc.assert(
      fc.property(
        contacts,
        fc.constantFrom('overdue', 'upcoming', 'notification') as fc.Arbitrary<'overdue'>,
        (batch, type) => {
          // Act
          const { accepted, rejected } = takeInContacts(batch as ContactInput[], ctx({ templateType: type }));

          // Assess
          const indexes = [...accepted.map((c) => c.index), ...rejected.map((r) => r.index)].sort(
            (a, b) => a - b,
          );
          expect(indexes).toEqual(batch.map((_, i) => i));
          expect(accepted.map((c) => c.index)).toEqual(
            [...accepted.map((c) => c.index)].sort((a, b) => a - b),
          );
          for (const r of rejected) {
            expect(r.telefone).toBe(batch[r.index]?.telefone);
            expect(r.message.length).toBeGreaterThan(0);
          }
          for (const c of accepted) expect(c.phone).toMatch(/^\+\d{10,15}$/);
          expect(new Set(accepted.map((c) => `${c.phone}|${c.invoiceNumber ?? ''}`)).size).toBe(
            accepted.length,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
