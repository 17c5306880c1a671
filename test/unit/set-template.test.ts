import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '../../lib/app/create-tenant.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import type { BillingConfig } from '../../lib/domain/tenant-types.ts';
import { inMemoryDeps, refusalOf, tenantWith } from '../support/use-case-deps.ts';

const CREDITOR: Partial<BillingConfig> = {
  creditorName: 'ACME Ltda',
  creditorDocument: '11.222.333/0001-81',
};

/** Tenant acme with `config` and the default hours (weekdays 09:00-18:00). */
const acme = async (config: Partial<BillingConfig> = {}) => {
  const deps = inMemoryDeps();
  await deps.store.createTenant(tenantWith(config));
  await deps.store.putCalendar('acme', defaultCalendar('America/Sao_Paulo'));
  return deps;
};

const SIGNED = 'Olá {{nome_cliente}}, sua fatura de {{valor}} venceu. {{empresa}}, CNPJ {{cnpj}}';
const THREAT = 'Olá {{nome_cliente}}, pague ou vamos chamar a polícia. {{empresa}}, CNPJ {{cnpj}}';

describe('setTemplate (collection rules)', () => {
  it('saves a template that breaks a rule and answers the warnings per variation', async () => {
    // Prepare
    const deps = await acme(CREDITOR);

    // Act
    const { template, warnings } = await setTemplate(deps, 'acme', 'overdue', {
      variations: [SIGNED, THREAT],
    });

    // Assess
    expect(warnings).toEqual([
      {
        code: 'CDC_42_THREAT_POLICE',
        reference: 'CDC art. 42',
        message: expect.stringContaining('não pode ser ameaçado'),
        variation: 2,
        excerpt: 'polícia',
      },
    ]);
    expect((await deps.store.getTemplate('acme', 'overdue'))?.variations).toHaveLength(2);
    expect(template.variations.map((v) => v.messageTemplate)).toEqual([SIGNED, THREAT]);
  });

  it('answers no warning for a signed, civil reminder when the tenant fixes its name and CNPJ', async () => {
    // Prepare
    const deps = await acme(CREDITOR);

    // Act
    const { warnings } = await setTemplate(deps, 'acme', 'overdue', {
      variations: [`${SIGNED} Seu nome poderá ser incluído no SPC/Serasa.`],
    });

    // Assess
    expect(warnings).toEqual([]);
  });

  it('warns about a reminder that does not identify the creditor, and takes required ERP variables instead', async () => {
    // Prepare
    const deps = await acme();

    // Act
    const unsigned = await setTemplate(deps, 'acme', 'upcoming', { variations: ['Olá {{nome_cliente}}'] });
    const fromErp = await setTemplate(deps, 'acme', 'upcoming', {
      required_variables: ['empresa', 'cnpj'],
      variations: [SIGNED],
    });

    // Assess
    expect(unsigned.warnings.map((w) => w.code)).toEqual([
      'CDC_42A_CREDITOR_NAME',
      'CDC_42A_CREDITOR_DOCUMENT',
    ]);
    expect(fromErp.warnings).toEqual([]);
  });

  it('refuses with --strict: TEMPLATE_LINT_FAILED, every finding listed, nothing changed', async () => {
    // Prepare
    const deps = await acme(CREDITOR);
    await setTemplate(deps, 'acme', 'overdue', { variations: [SIGNED] });

    // Act
    const error = await refusalOf(() =>
      setTemplate(deps, 'acme', 'overdue', { variations: [THREAT, 'Seu caloteiro'] }, { strict: true }),
    );

    // Assess
    expect(error.code).toBe('TEMPLATE_LINT_FAILED');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(
      /^Template recusado pelas regras de cobrança \(4 problema\(s\)\): variação 1: /,
    );
    expect(error.details).toEqual([
      expect.objectContaining({ variation: 1, code: 'CDC_42_THREAT_POLICE' }),
      expect.objectContaining({ variation: 2, code: 'CDC_42_INSULT' }),
      expect.objectContaining({ variation: 2, code: 'CDC_42A_CREDITOR_NAME' }),
      expect.objectContaining({ variation: 2, code: 'CDC_42A_CREDITOR_DOCUMENT' }),
    ]);
    expect(
      (await deps.store.getTemplate('acme', 'overdue'))?.variations.map((v) => v.messageTemplate),
    ).toEqual([SIGNED]);
  });

  it("refuses when the tenant's setting is strict, and saves a clean template all the same", async () => {
    // Prepare
    const deps = await acme({ ...CREDITOR, strictTemplateLint: true });

    // Act
    const error = await refusalOf(() => setTemplate(deps, 'acme', 'notification', { variations: [THREAT] }));
    const clean = await setTemplate(deps, 'acme', 'overdue', { variations: [SIGNED] });

    // Assess
    expect(error.code).toBe('TEMPLATE_LINT_FAILED');
    expect(await deps.store.getTemplate('acme', 'notification')).toBeUndefined();
    expect(clean.warnings).toEqual([]);
  });

  it('warns about business hours outside the collection window for overdue and upcoming, never for notifications, and never refuses for them', async () => {
    // Prepare: open on Sundays, strict tenant
    const deps = await acme({ ...CREDITOR, strictTemplateLint: true });
    await deps.store.putCalendar('acme', {
      ...defaultCalendar('America/Sao_Paulo'),
      weekly: { 0: [{ start: '10:00', end: '12:00' }], 1: [{ start: '09:00', end: '18:00' }] },
    });

    // Act
    const overdue = await setTemplate(deps, 'acme', 'overdue', { variations: [SIGNED] });
    const notification = await setTemplate(deps, 'acme', 'notification', {
      variations: ['Olá {{nome_cliente}}'],
    });

    // Assess
    expect(overdue.warnings).toEqual([
      expect.objectContaining({ code: 'STATE_LAW_HOURS_SUNDAY', excerpt: 'dom 10:00-12:00' }),
    ]);
    expect(overdue.warnings[0]).not.toHaveProperty('variation');
    expect(notification.warnings).toEqual([]);
  });

  it('still refuses malformed tags first, with their own code', async () => {
    // Prepare
    const deps = await acme(CREDITOR);

    // Act
    const error = await refusalOf(() =>
      setTemplate(
        deps,
        'acme',
        'overdue',
        { variations: ['Caloteiro {{nome_do_cliente}}'] },
        { strict: true },
      ),
    );

    // Assess
    expect(error.code).toBe('TEMPLATE_INVALID');
  });
});
