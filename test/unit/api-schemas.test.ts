import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GUIDE_EXAMPLE_1 } from '../../lib/http/routes/send-overdue.ts';
import {
  DEFAULT_CALLBACK_EVENTS,
  extraVariables,
  isDryRun,
  sendBillingRequestSchema,
  sendQuerySchema,
} from '../../lib/http/schemas/billing.ts';
import { formatZodIssues } from '../../lib/http/schemas/portuguese-issues.ts';
import { queueListQuerySchema } from '../../lib/http/schemas/queues.ts';
import { validate } from '../../lib/http/validate-request.ts';

const contact = (overrides: Record<string, unknown> = {}) => ({
  nome_cliente: 'João Silva',
  telefone: '+5511999999999',
  ...overrides,
});

const body = (contacts: unknown[] = [contact()], extra: Record<string, unknown> = {}) => ({
  external_id: 'fatura-1',
  contacts,
  ...extra,
});

/** The `errors` detail a 400 would carry for this body. */
const issuesOf = (input: unknown) => {
  const parsed = sendBillingRequestSchema.safeParse(input);
  if (parsed.success) throw new Error('expected the body to be refused');
  return formatZodIssues(parsed.error);
};

describe('api-schemas', () => {
  it('parses the guide Exemplo 1 body verbatim', () => {
    // Prepare: the request exactly as the guide's curl sends it
    const raw = JSON.parse(JSON.stringify(GUIDE_EXAMPLE_1));

    // Act
    const parsed = sendBillingRequestSchema.parse(raw);

    // Assess
    expect(parsed.external_id).toBe('fatura-67890');
    expect(parsed.contacts[0]).toEqual(GUIDE_EXAMPLE_1.contacts[0]);
    expect(parsed.metadata).toEqual({ cliente_id: '12345', empresa: 'Empresa XYZ' });
    expect(parsed.callback_events).toEqual(DEFAULT_CALLBACK_EVENTS);
  });

  it('refuses a 256-character nome_cliente with a Portuguese message on its path', () => {
    const issues = issuesOf(body([contact({ nome_cliente: 'a'.repeat(256) })]));
    expect(issues).toEqual([{ field: 'contacts.0.nome_cliente', message: 'Máximo de 255 caracteres' }]);
  });

  it('accepts a 255-character nome_cliente and trims it', () => {
    const parsed = sendBillingRequestSchema.parse(body([contact({ nome_cliente: ` ${'a'.repeat(255)} ` })]));
    expect(parsed.contacts[0]?.nome_cliente).toBe('a'.repeat(255));
  });

  it('refuses a 21-character telefone', () => {
    const issues = issuesOf(body([contact(), contact({ telefone: '1'.repeat(21) })]));
    expect(issues).toEqual([{ field: 'contacts.1.telefone', message: 'Máximo de 20 caracteres' }]);
  });

  it('refuses a link_pagamento that is not an http(s) URL', () => {
    for (const link of ['não é url', 'ftp://pay.example.com/x', 'javascript:alert(1)']) {
      const issues = issuesOf(body([contact({ link_pagamento: link })]));
      expect(issues).toEqual([
        { field: 'contacts.0.link_pagamento', message: 'URL inválida (use http:// ou https://)' },
      ]);
    }
  });

  it('accepts a blank codigo_pix, link_pagamento and numero_fatura', () => {
    const parsed = sendBillingRequestSchema.parse(
      body([contact({ codigo_pix: '', link_pagamento: '', numero_fatura: '' })]),
    );
    expect(parsed.contacts[0]).toMatchObject({ codigo_pix: '', link_pagamento: '', numero_fatura: '' });
  });

  it('accepts valor as a number, since ERPs send either', () => {
    const parsed = sendBillingRequestSchema.parse(body([contact({ valor: 150.5, valor_total: '165,00' })]));
    expect(parsed.contacts[0]?.valor).toBe(150.5);
  });

  it('refuses valor of another type', () => {
    const issues = issuesOf(body([contact({ valor: true })]));
    expect(issues).toEqual([{ field: 'contacts.0.valor', message: 'Tipo inválido' }]);
  });

  it('refuses an empty contacts list and one of 1001 contacts', () => {
    expect(issuesOf(body([]))).toEqual([{ field: 'contacts', message: 'Informe ao menos 1 item' }]);
    const many = Array.from({ length: 1001 }, (_, i) =>
      contact({ telefone: `+55119${String(i).padStart(8, '0')}` }),
    );
    expect(issuesOf(body(many))).toEqual([{ field: 'contacts', message: 'Máximo de 1000 itens' }]);
  });

  it('accepts exactly 1000 contacts', () => {
    const many = Array.from({ length: 1000 }, () => contact());
    expect(sendBillingRequestSchema.safeParse(body(many)).success).toBe(true);
  });

  it('turns an extra string field into a template variable', () => {
    // Prepare
    const [parsed] = sendBillingRequestSchema.parse(
      body([contact({ valor: 'R$ 1,00', plano: 'Premium', _ref: 'x1' })]),
    ).contacts;
    if (!parsed) throw new Error('contact missing');

    // Act
    const vars = extraVariables(parsed);

    // Assess: the guide's fields are not extras
    expect(vars).toEqual({ plano: 'Premium', _ref: 'x1' });
  });

  it('refuses an extra field that is not a string', () => {
    const issues = issuesOf(body([contact({ plano: 3 })]));
    expect(issues).toEqual([{ field: 'contacts.0.plano', message: 'Tipo inválido: esperado texto' }]);
  });

  it('refuses an extra field longer than 500 characters', () => {
    const issues = issuesOf(body([contact({ plano: 'x'.repeat(501) })]));
    expect(issues).toEqual([{ field: 'contacts.0.plano', message: 'Máximo de 500 caracteres' }]);
  });

  it('refuses 21 extra keys but accepts 20', () => {
    const extras = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`var_${i}`, 'v']));
    expect(sendBillingRequestSchema.safeParse(body([contact(extras(20))])).success).toBe(true);
    expect(issuesOf(body([contact(extras(21))]))).toEqual([
      { field: 'contacts.0', message: 'Máximo de 20 variáveis extras por contato' },
    ]);
  });

  it('refuses an extra key with a bad name', () => {
    const issues = issuesOf(body([contact({ Plano: 'x' })]));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('contacts.0.Plano');
    expect(issues[0]?.message).toMatch(/^Nome de variável inválido/);
  });

  it('refuses a calculated variable name sent by the caller', () => {
    const issues = issuesOf(body([contact({ dias_atraso: '3' })]));
    expect(issues).toEqual([
      {
        field: 'contacts.0.dias_atraso',
        message: 'dias_atraso é calculada pelo sistema e não pode ser enviada',
      },
    ]);
  });

  it('refuses metadata that is an array, has too many keys, or is too big', () => {
    expect(issuesOf(body(undefined, { metadata: [1, 2] }))).toEqual([
      { field: 'metadata', message: 'Tipo inválido: esperado objeto' },
    ]);
    const keys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(issuesOf(body(undefined, { metadata: keys }))).toEqual([
      { field: 'metadata', message: 'metadata aceita no máximo 50 chaves' },
    ]);
    expect(issuesOf(body(undefined, { metadata: { big: 'x'.repeat(8200) } }))).toEqual([
      { field: 'metadata', message: 'metadata excede 8192 bytes' },
    ]);
  });

  it('refuses a blank external_id and reports missing fields as required', () => {
    const issues = issuesOf({ external_id: '   ', contacts: [{ telefone: '+5511999999999' }] });
    expect(issues).toEqual([
      { field: 'external_id', message: 'Campo não pode ficar em branco' },
      { field: 'contacts.0.nome_cliente', message: 'Campo obrigatório' },
    ]);
  });

  it('ignores unknown top-level keys', () => {
    const parsed = sendBillingRequestSchema.parse(body(undefined, { origem: 'erp-x', versao: 2 }));
    expect(parsed).not.toHaveProperty('origem');
  });

  it('refuses an unknown callback event and a bad callback_url', () => {
    const issues = issuesOf(
      body(undefined, { callback_events: ['sent', 'opened'], callback_url: 'ftp://x.com' }),
    );
    expect(issues).toEqual([
      { field: 'callback_url', message: 'URL inválida (use http:// ou https://)' },
      {
        field: 'callback_events.1',
        message:
          'Valor inválido. Use: sent, delivered, read, failed, unknown, replied, queue.completed, delivery_stalled, cancelled',
      },
    ]);
  });

  it('reports the telling branch of a union with its full path', () => {
    // Prepare: a union zod cannot flatten (both branches are objects)
    const schema = z.object({
      a: z.union([z.object({ x: z.string().max(2) }), z.object({ y: z.number() })]),
    });
    const parsed = schema.safeParse({ a: { x: 'longo', y: 'n' } });
    if (parsed.success) throw new Error('expected a failure');

    // Act
    const issues = formatZodIssues(parsed.error);

    // Assess
    expect(issues).toEqual([{ field: 'a.x', message: 'Máximo de 2 caracteres' }]);
  });

  it('validate returns a VALIDATION_FAILED error carrying the field issues', () => {
    // Act
    const result = validate(sendBillingRequestSchema, { contacts: [contact()] });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('VALIDATION_FAILED');
    expect(result.error.status).toBe(400);
    expect(result.error.details).toEqual([{ field: 'external_id', message: 'Campo obrigatório' }]);
  });

  it('validate reports a missing body as a required body', () => {
    const result = validate(sendBillingRequestSchema, undefined);
    expect(result.ok ? undefined : result.error.details).toEqual([
      { field: 'body', message: 'Campo obrigatório' },
    ]);
  });

  it('reads dry_run from the query and defaults the list limit', () => {
    expect(isDryRun(sendQuerySchema.parse({ dry_run: 'true' }))).toBe(true);
    expect(isDryRun(sendQuerySchema.parse({ dry_run: '1' }))).toBe(true);
    expect(isDryRun(sendQuerySchema.parse({}))).toBe(false);
    expect(sendQuerySchema.safeParse({ dry_run: 'talvez' }).success).toBe(false);
    expect(queueListQuerySchema.parse({}).limit).toBe(20);
    expect(queueListQuerySchema.parse({ limit: '100' }).limit).toBe(100);
    expect(queueListQuerySchema.safeParse({ limit: '101' }).success).toBe(false);
  });
});
