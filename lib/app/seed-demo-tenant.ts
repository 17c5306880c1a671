import type { BusinessCalendar } from '../domain/tenant-types.ts';
import type { TemplateType } from '../domain/types.ts';
import type { ApiKeyStore } from '../ports/store.ts';
import { addInstance } from './add-instance.ts';
import { hashApiKey } from './api-key-secret.ts';
import { createApiKey } from './create-api-key.ts';
import { createTenant, defaultCalendar } from './create-tenant.ts';
import { type SetBusinessHoursDeps, setBusinessHours } from './set-business-hours.ts';
import { setTemplate, type TemplateInput } from './set-template.ts';

export const DEMO_TENANT_ID = 'demo';

/** The demo creditor (CDC art. 42-A): the tenant's fixed `{{empresa}}` and `{{cnpj}}`. */
export const DEMO_CREDITOR = { creditorName: 'Empresa Demo Ltda', creditorDocument: '11.222.333/0001-81' };

/** How a reminder names its creditor: a last line, printed when the tenant (or ERP) gives the name. */
const CREDITOR_SIGNATURE = '{{#empresa}}\n— {{empresa}}{{#cnpj}}, CNPJ {{cnpj}}{{/cnpj}}{{/empresa}}';

/**
 * pt-BR texts, two or more variations per type so rotation is visible from the first run. Each reads
 * well with any optional variable absent (test/unit/demo-templates.test.ts renders every combination),
 * and the reminders pass the collection rules (CDC) with the demo creditor.
 */
export const DEMO_TEMPLATES: Record<TemplateType, TemplateInput> = {
  overdue: {
    name: 'Cobrança atrasada',
    required_variables: ['nome_cliente', 'valor', 'data_vencimento'],
    rotation_strategy: 'sequential',
    variations: [
      'Olá, {{nome_cliente}}! Consta em aberto {{#numero_fatura}}a fatura {{numero_fatura}}{{/numero_fatura}}{{^numero_fatura}}uma fatura{{/numero_fatura}} no valor de {{valor}}, vencida em {{data_vencimento}} ({{dias_atraso}} dia(s) de atraso).{{#link_pagamento}} Pague por aqui: {{link_pagamento}}{{/link_pagamento}}{{#codigo_pix}} PIX copia e cola: {{codigo_pix}}{{/codigo_pix}} Se já pagou, por favor desconsidere.' +
        CREDITOR_SIGNATURE,
      '{{nome_cliente}}, tudo bem? Lembramos que o pagamento de {{valor}} venceu em {{data_vencimento}}.{{#valor_total}} Valor atualizado: {{valor_total}}.{{/valor_total}}{{#link_pagamento}} Link para pagamento: {{link_pagamento}}{{/link_pagamento}}{{#codigo_pix}} PIX: {{codigo_pix}}{{/codigo_pix}} Qualquer dúvida, é só responder esta mensagem.' +
        CREDITOR_SIGNATURE,
    ],
  },
  upcoming: {
    name: 'Cobrança a vencer',
    required_variables: ['nome_cliente', 'valor', 'data_vencimento'],
    rotation_strategy: 'sequential',
    variations: [
      'Olá, {{nome_cliente}}! Passando para lembrar que {{#numero_fatura}}a fatura {{numero_fatura}}{{/numero_fatura}}{{^numero_fatura}}sua fatura{{/numero_fatura}}, no valor de {{valor}}, vence em {{data_vencimento}}.{{#link_pagamento}} Pague por aqui: {{link_pagamento}}{{/link_pagamento}}{{#codigo_pix}} PIX copia e cola: {{codigo_pix}}{{/codigo_pix}}' +
        CREDITOR_SIGNATURE,
      '{{nome_cliente}}, seu pagamento de {{valor}} vence em {{data_vencimento}}{{#dias_para_vencer}} (faltam {{dias_para_vencer}} dia(s)){{/dias_para_vencer}}{{^dias_para_vencer}} (hoje){{/dias_para_vencer}}.{{#link_pagamento}} Link: {{link_pagamento}}{{/link_pagamento}}{{#codigo_pix}} PIX: {{codigo_pix}}{{/codigo_pix}} Obrigado!' +
        CREDITOR_SIGNATURE,
    ],
  },
  notification: {
    name: 'Aviso',
    required_variables: ['nome_cliente', 'mensagem'],
    rotation_strategy: 'sequential',
    variations: [
      'Olá, {{nome_cliente}}!{{#titulo}} *{{titulo}}*{{/titulo}} {{mensagem}}',
      '{{nome_cliente}},{{#titulo}} {{titulo}}:{{/titulo}} {{mensagem}}',
    ],
  },
};

/** Monday to Friday, 09:00 to 18:00, São Paulo, closed on national holidays. */
export const DEMO_CALENDAR: BusinessCalendar = defaultCalendar('America/Sao_Paulo');

export interface SeedDemoInput {
  /** Where the demo instance's Evolution API lives (the built-in simulator by default). */
  evolutionUrl: string;
  /** `env:...`/`plain:...` reference to the Evolution apikey. */
  credentialRef: string;
  /** Fixed demo key (BILLING_DEMO_API_KEY), else a random one. */
  apiKey?: string;
  /**
   * Whether the demo instance warms up (warmup.ts): a real number does; the built-in simulator is
   * no number to protect, so the demo sends at the tenant's pace from the first day.
   */
  warmup: boolean;
}

export type SeedDemoResult = { created: true; key: string; signingSecret: string } | { created: false };

/**
 * First start of the local stack: tenant `demo` with a template per type, business hours,
 * an instance and an API key. Each step is skipped when its piece exists, so a restart keeps
 * the data and a first start that died halfway is completed by the next one.
 */
export const seedDemoTenant = async (
  deps: SetBusinessHoursDeps & { store: ApiKeyStore },
  input: SeedDemoInput,
): Promise<SeedDemoResult> => {
  if (!(await deps.store.getTenant(DEMO_TENANT_ID))) {
    await createTenant(deps, {
      id: DEMO_TENANT_ID,
      name: 'Empresa Demo',
      // Local development: the demo ERP may receive callbacks on http://localhost.
      config: { allowInsecureCallbacks: true, ...DEMO_CREDITOR },
    });
  }
  for (const [type, template] of Object.entries(DEMO_TEMPLATES)) {
    if (!(await deps.store.getTemplate(DEMO_TENANT_ID, type as TemplateType))) {
      await setTemplate(deps, DEMO_TENANT_ID, type, template);
    }
  }
  if (!(await deps.store.getCalendar(DEMO_TENANT_ID)))
    await setBusinessHours(deps, DEMO_TENANT_ID, DEMO_CALENDAR);
  if (!(await deps.store.getInstance(DEMO_TENANT_ID, 'demo'))) {
    await addInstance(deps, {
      tenantId: DEMO_TENANT_ID,
      id: 'demo',
      instanceName: 'demo',
      baseUrl: input.evolutionUrl,
      credentialRef: input.credentialRef,
      warmup: { enabled: input.warmup },
    });
  }
  // A chosen key (BILLING_DEMO_API_KEY) must work even when an earlier start made a random one.
  const wanted = input.apiKey ? await deps.store.getApiKeyByHash(hashApiKey(input.apiKey)) : undefined;
  if (input.apiKey ? wanted : (await deps.store.listApiKeys(DEMO_TENANT_ID)).length > 0)
    return { created: false };
  const created = await createApiKey(deps, {
    tenantId: DEMO_TENANT_ID,
    name: 'Demo',
    description: 'Chave criada na primeira execução local',
    ...(input.apiKey ? { key: input.apiKey } : {}),
  });
  return { created: true, key: created.key, signingSecret: created.signingSecret };
};
