import { describe, expect, it } from 'vitest';
import { DEMO_TEMPLATES, DEMO_TENANT_ID, seedDemoTenant } from '../../lib/app/seed-demo-tenant.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import { renderTemplate } from '../../lib/domain/template.ts';
import type { TemplateType } from '../../lib/domain/types.ts';
import { inMemoryDeps } from '../support/use-case-deps.ts';

/** The creditor's signature: the tenant's fixed name and CNPJ. */
const CREDITOR = { empresa: 'Empresa Demo Ltda', cnpj: '11.222.333/0001-81' };

/** Every variable a contact of the type may carry, with a realistic value. */
const FULL_CONTACT: Record<TemplateType, Record<string, string | number>> = {
  overdue: {
    nome_cliente: 'Maria Souza',
    valor: 'R$ 150,00',
    data_vencimento: '01/11/2026',
    dias_atraso: 34,
    numero_fatura: 'NF-2025-001',
    valor_total: 'R$ 165,00',
    link_pagamento: 'https://pay.exemplo.com/1',
    codigo_pix: '00020126580014br.gov.bcb.pix',
    ...CREDITOR,
  },
  upcoming: {
    nome_cliente: 'Maria Souza',
    valor: 'R$ 150,00',
    data_vencimento: '20/12/2026',
    dias_para_vencer: 15,
    numero_fatura: 'NF-2025-002',
    link_pagamento: 'https://pay.exemplo.com/2',
    codigo_pix: '00020126580014br.gov.bcb.pix',
    ...CREDITOR,
  },
  notification: { nome_cliente: 'Maria Souza', mensagem: 'Seu boleto está disponível.', titulo: 'Aviso' },
};

/** Every subset of the optional variables (the template's required ones are always given). */
const withoutEachOptionalSubset = (type: TemplateType): Array<Record<string, string | number>> => {
  const required = new Set(DEMO_TEMPLATES[type].required_variables);
  const optional = Object.keys(FULL_CONTACT[type]).filter((name) => !required.has(name));
  return Array.from({ length: 2 ** optional.length }, (_, mask) => {
    const contact = { ...FULL_CONTACT[type] };
    optional.forEach((name, bit) => {
      if (mask & (1 << bit)) delete contact[name];
    });
    return contact;
  });
};

/** Signs of a sentence broken by a missing variable: doubled or dangling spaces and punctuation. */
const BROKEN = [
  / {2}/,
  / [,.:!?)]/,
  /[,:] *[,.]/,
  /\( *\)/,
  /^\s|\s$/,
  /\{\{|\}\}/,
  /que no valor/,
  /aberto no valor/,
];

describe('demo templates', () => {
  for (const type of Object.keys(DEMO_TEMPLATES) as TemplateType[]) {
    const contacts = withoutEachOptionalSubset(type);
    DEMO_TEMPLATES[type].variations.forEach((entry, index) => {
      const variation = typeof entry === 'string' ? entry : entry.message_template;
      it(`${type} variation ${index + 1} reads well with any of its ${Math.log2(contacts.length)} optional variables absent`, () => {
        for (const contact of contacts) {
          // Act
          const text = renderTemplate(variation, contact);

          // Assess
          for (const pattern of BROKEN) expect(text, JSON.stringify(contact)).not.toMatch(pattern);
          for (const [name, value] of Object.entries(contact)) {
            // The CNPJ completes the creditor's name: without the name the signature is left out.
            const printed = name !== 'cnpj' || 'empresa' in contact;
            if (printed && variation.includes(`{{${name}}}`)) expect(text).toContain(String(value));
          }
        }
      });
    });
  }

  it('would catch the old upcoming text that lost its subject without an invoice number', () => {
    // Act
    const text = renderTemplate(
      'Passando para lembrar que{{#numero_fatura}} a fatura {{numero_fatura}},{{/numero_fatura}} no valor de {{valor}}.',
      {
        valor: 'R$ 1,00',
      },
    );

    // Assess
    expect(BROKEN.some((pattern) => pattern.test(text))).toBe(true);
  });

  it('pass the collection rules (CDC) without a warning on the seeded demo tenant, even when strict', async () => {
    // Prepare
    const deps = inMemoryDeps();
    await seedDemoTenant(deps, {
      evolutionUrl: 'http://127.0.0.1:8081',
      credentialRef: 'plain:demo',
      warmup: false,
    });

    // Act
    const results = await Promise.all(
      (Object.keys(DEMO_TEMPLATES) as TemplateType[]).map((type) =>
        setTemplate(deps, DEMO_TENANT_ID, type, DEMO_TEMPLATES[type], { strict: true }),
      ),
    );

    // Assess
    expect(results.flatMap((r) => r.warnings)).toEqual([]);
    expect((await deps.store.getTenant(DEMO_TENANT_ID))?.config).toMatchObject({
      creditorName: CREDITOR.empresa,
      creditorDocument: CREDITOR.cnpj,
    });
  });
});
