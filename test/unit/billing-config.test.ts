import { describe, expect, it } from 'vitest';
import { DEFAULT_BILLING_CONFIG, parseBillingConfigPatch } from '../../lib/domain/billing-config.ts';
import { creditorVariables } from '../../lib/domain/creditor.ts';
import type { DomainError } from '../../lib/domain/errors.ts';

const refusal = (patch: unknown): DomainError => {
  try {
    parseBillingConfigPatch(patch);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
};

describe('parseBillingConfigPatch (creditor and template lint)', () => {
  it('keeps the creditor document formatted, however it was typed', () => {
    expect(parseBillingConfigPatch({ creditorDocument: '11222333000181' })).toEqual({
      creditorDocument: '11.222.333/0001-81',
    });
    expect(parseBillingConfigPatch({ creditorDocument: '529.982.247-25' })).toEqual({
      creditorDocument: '529.982.247-25',
    });
  });

  it('refuses a creditor document whose check digits are wrong, naming the field', () => {
    // Act
    const error = refusal({ creditorDocument: '11.222.333/0001-82' });

    // Assess
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toBe(
      'Configuração inválida: creditorDocument: CNPJ ou CPF inválido (dígitos verificadores não conferem)',
    );
  });

  it('trims the creditor name, refuses a blank one, and clears both with null', () => {
    expect(parseBillingConfigPatch({ creditorName: ' ACME Ltda ' })).toEqual({ creditorName: 'ACME Ltda' });
    expect(refusal({ creditorName: '  ' }).code).toBe('INVALID_CONFIG');
    expect(parseBillingConfigPatch({ creditorName: null, creditorDocument: null })).toEqual({
      creditorName: null,
      creditorDocument: null,
    });
  });

  it('starts a tenant without creditor values and with warnings, not refusals', () => {
    expect(DEFAULT_BILLING_CONFIG).toMatchObject({
      creditorName: null,
      creditorDocument: null,
      strictTemplateLint: false,
    });
    expect(parseBillingConfigPatch({ strictTemplateLint: true })).toEqual({ strictTemplateLint: true });
  });
});

describe('parseBillingConfigPatch (per-debtor frequency cap)', () => {
  it('starts every tenant at one reminder a day, 20 h apart, for overdue and upcoming', () => {
    expect(DEFAULT_BILLING_CONFIG).toMatchObject({
      maxRemindersPerDebtorPerDay: 1,
      minHoursBetweenReminders: 20,
      frequencyCapTypes: ['overdue', 'upcoming'],
    });
  });

  it('takes 0 to turn a rule off, lists each type once, and refuses unknown types and a week-long gap', () => {
    expect(
      parseBillingConfigPatch({
        maxRemindersPerDebtorPerDay: 0,
        minHoursBetweenReminders: 0,
        frequencyCapTypes: ['overdue', 'overdue', 'notification'],
      }),
    ).toEqual({
      maxRemindersPerDebtorPerDay: 0,
      minHoursBetweenReminders: 0,
      frequencyCapTypes: ['overdue', 'notification'],
    });
    expect(refusal({ frequencyCapTypes: ['cobranca'] }).code).toBe('INVALID_CONFIG');
    expect(refusal({ minHoursBetweenReminders: 169 }).message).toContain('minHoursBetweenReminders');
    expect(refusal({ maxRemindersPerDebtorPerDay: 1.5 }).code).toBe('INVALID_CONFIG');
  });
});

describe('creditorVariables', () => {
  it('gives the configured name and document as {{empresa}} and {{cnpj}}, and nothing unconfigured', () => {
    expect(creditorVariables({ creditorName: 'ACME Ltda', creditorDocument: '11.222.333/0001-81' })).toEqual({
      empresa: 'ACME Ltda',
      cnpj: '11.222.333/0001-81',
    });
    expect(creditorVariables({ creditorName: 'ACME Ltda', creditorDocument: null })).toEqual({
      empresa: 'ACME Ltda',
    });
    expect(creditorVariables(DEFAULT_BILLING_CONFIG)).toEqual({});
  });
});
