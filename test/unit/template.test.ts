import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors.ts';
import {
  assertValidTemplate,
  KNOWN_VARIABLES,
  lintTemplate,
  missingVariables,
  renderTemplate,
  templateVariables,
} from '../../lib/domain/template.ts';

describe('renderTemplate', () => {
  const tricky: Array<[string, string]> = [
    ['date', '05/12/2026'],
    ['money', 'R$ 1.234,56'],
    ['ampersand', 'Silva & Filhos'],
    ['angle brackets', '<b>atenção</b> a > b'],
    ['double quotes', 'o "melhor" preço'],
    ['single quote', "D'Ávila"],
    ['url with query', 'https://x/?a=1&b=2'],
    ['backtick and equals', '`a` = b'],
    ['emoji and accents', 'Olá, João 😀 ção'],
    ['mustache-looking text', '{{nome_cliente}}'],
  ];

  it.each(tricky)('keeps %s exactly as typed when rendering', (_label, value) => {
    // Prepare
    const template = 'Valor: {{valor}}!';

    // Act
    const out = renderTemplate(template, { valor: value });

    // Assess
    expect(out).toBe(`Valor: ${value}!`);
  });

  it('keeps the text exactly in triple-brace and ampersand tags too', () => {
    // Prepare
    const value = 'a&b<c>"d"';

    // Act
    const out = renderTemplate('{{{mensagem}}}|{{& mensagem}}|{{ mensagem }}', { mensagem: value });

    // Assess
    expect(out).toBe(`${value}|${value}|${value}`);
  });

  it('renders numbers as their plain string when a variable is a number', () => {
    // Prepare / Act
    const out = renderTemplate('{{dias_atraso}} dias, total {{valor_total}}', {
      dias_atraso: 0,
      valor_total: 12.5,
    });

    // Assess
    expect(out).toBe('0 dias, total 12.5');
  });

  it('does not change Mustache global escaping when it renders', () => {
    // Prepare
    renderTemplate('{{valor}}', { valor: '&' });

    // Act
    const globalOut = Mustache.render('{{v}}', { v: '&' });

    // Assess
    expect(globalOut).toBe('&amp;');
  });

  it('renders a section only when an optional variable is present', () => {
    // Prepare
    const template =
      'Pague {{valor}}.{{#codigo_pix}} PIX: {{codigo_pix}}{{/codigo_pix}}{{^codigo_pix}} Sem PIX.{{/codigo_pix}}';

    // Act
    const withPix = renderTemplate(template, { valor: 'R$ 10,00', codigo_pix: '000201&x=<1>' });
    const withoutPix = renderTemplate(template, { valor: 'R$ 10,00', codigo_pix: '' });
    const absentPix = renderTemplate(template, { valor: 'R$ 10,00' });

    // Assess
    expect(withPix).toBe('Pague R$ 10,00. PIX: 000201&x=<1>');
    expect(withoutPix).toBe('Pague R$ 10,00. Sem PIX.');
    expect(absentPix).toBe('Pague R$ 10,00. Sem PIX.');
  });

  it('renders the section value through {{.}} when used inside the section', () => {
    // Prepare / Act
    const out = renderTemplate('{{#link_pagamento}}Link: {{.}}{{/link_pagamento}}', {
      link_pagamento: 'https://pag.example/?id=1&t=2',
    });

    // Assess
    expect(out).toBe('Link: https://pag.example/?id=1&t=2');
  });

  it('renders an empty string when a variable is missing or is an Object member name', () => {
    // Prepare / Act
    const out = renderTemplate('[{{titulo}}][{{constructor}}][{{toString}}]', {});

    // Assess
    expect(out).toBe('[][][]');
  });
});

describe('lintTemplate', () => {
  it('accepts a template that uses only known variables and optional sections', () => {
    // Prepare
    const template =
      'Olá {{nome_cliente}}, a fatura {{numero_fatura}} de {{valor}} venceu em {{data_vencimento}} ' +
      '({{dias_atraso}} dias).{{#codigo_pix}} PIX: {{codigo_pix}}{{/codigo_pix}}{{^link_pagamento}}.{{/link_pagamento}}' +
      '{{! comentário interno }}';

    // Act
    const report = lintTemplate(template);

    // Assess
    expect(report).toEqual({ ok: true, problems: [] });
  });

  it('accepts every known variable', () => {
    // Prepare
    const template = KNOWN_VARIABLES.map((name) => `{{${name}}}`).join(' ');

    // Act
    const report = lintTemplate(template);

    // Assess
    expect(report.ok).toBe(true);
  });

  it.each(['', '   ', '\n\t'])('reports malformed when the template is empty (%j)', (template) => {
    // Prepare / Act
    const report = lintTemplate(template);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ kind: 'malformed', message: expect.stringContaining('vazio') }]);
  });

  it('reports malformed with the tag when a tag is never closed', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome_cliente}}, valor {{valor');

    // Assess
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: 'malformed', tag: '{{valor' });
    expect(report.problems[0]?.message).toContain('não fechada');
  });

  it('reports malformed when a section is never closed', () => {
    // Prepare / Act
    const report = lintTemplate('{{#codigo_pix}}PIX: {{codigo_pix}}');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'malformed', tag: '{{#codigo_pix}}', message: expect.stringContaining('{{/codigo_pix}}') },
    ]);
  });

  it('reports malformed when sections are closed in the wrong order', () => {
    // Prepare / Act
    const report = lintTemplate('{{#codigo_pix}}{{#link_pagamento}}x{{/codigo_pix}}{{/link_pagamento}}');

    // Assess
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'malformed', tag: '{{#link_pagamento}}' });
  });

  it('reports malformed when a section is closed without being opened', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome_cliente}}{{/codigo_pix}}');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'malformed', tag: '{{/codigo_pix}}', message: expect.stringContaining('sem ter sido aberta') },
    ]);
  });

  it.each(['{{ }}', '{{}}', '{{{ }}}'])('reports malformed when a tag is empty (%s)', (tag) => {
    // Prepare / Act
    const report = lintTemplate(`Olá ${tag}!`);

    // Assess
    expect(report.problems).toEqual([{ kind: 'malformed', tag, message: expect.stringContaining('vazia') }]);
  });

  it('reports malformed with a hint when a known name sits in single braces', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {nome_cliente}, valor {{valor}} e {valor_total}}');

    // Assess
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { kind: 'malformed', tag: '{nome_cliente}', message: expect.stringContaining('{{nome_cliente}}') },
      { kind: 'malformed', tag: '{valor_total}}', message: expect.stringContaining('{{valor_total}}') },
    ]);
  });

  it('leaves single braces alone when they do not wrap a known name', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome_cliente}} {ver contrato} {x}');

    // Assess
    expect(report.ok).toBe(true);
  });

  it('reports malformed when a tag name has spaces or stray braces', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome cliente}}');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'malformed', tag: '{{nome cliente}}', message: expect.stringContaining('mal formada') },
    ]);
  });

  it('reports an unknown variable with its tag', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome_cliente}}, seu CPF {{cpf}} e {{#desconto}}x{{/desconto}}');

    // Assess
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { kind: 'unknown_variable', tag: '{{cpf}}', message: expect.stringContaining('{{cpf}}') },
      { kind: 'unknown_variable', tag: '{{#desconto}}', message: expect.stringContaining('desconto') },
    ]);
  });

  it('reports an unknown variable once when it is used several times', () => {
    // Prepare / Act
    const report = lintTemplate('{{cpf}} {{cpf}}');

    // Assess
    expect(report.problems).toHaveLength(1);
  });

  it('suggests the known name when an unknown variable differs only in case', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{Nome_Cliente}}');

    // Assess
    expect(report.problems[0]).toMatchObject({ kind: 'unknown_variable', tag: '{{Nome_Cliente}}' });
    expect(report.problems[0]?.message).toContain('Você quis dizer {{nome_cliente}}?');
  });

  it('accepts custom variables when the template declares them', () => {
    // Prepare
    const template = 'Olá {{nome_cliente}}, CPF {{cpf}}{{#desconto}}, desconto {{desconto}}{{/desconto}}';

    // Act
    const report = lintTemplate(template, ['cpf', 'desconto']);

    // Assess
    expect(report).toEqual({ ok: true, problems: [] });
  });

  it('reports {{.}} as unsupported when it is used outside any section', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{.}} {{#codigo_pix}}{{.}}{{/codigo_pix}}');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'unsupported_tag', tag: '{{.}}', message: expect.stringContaining('dentro de uma seção') },
    ]);
  });

  it('reports partials as unsupported with their tag', () => {
    // Prepare / Act
    const report = lintTemplate('Olá {{nome_cliente}} {{> rodape}}');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'unsupported_tag', tag: '{{> rodape}}', message: expect.stringContaining('Partials') },
    ]);
  });

  it('reports a set-delimiter tag as unsupported with its tag', () => {
    // Prepare / Act
    const report = lintTemplate('{{=<% %>=}}Olá <% nome_cliente %>');

    // Assess
    expect(report.problems).toEqual([
      { kind: 'unsupported_tag', tag: '{{=<% %>=}}', message: expect.stringContaining('delimitadores') },
    ]);
  });

  it('reports several problems of different kinds together', () => {
    // Prepare / Act
    const report = lintTemplate('{{> cabecalho}} {nome_cliente} {{cpf}} {{ }}');

    // Assess
    expect(report.problems.map((p) => p.kind).sort()).toEqual([
      'malformed',
      'malformed',
      'unknown_variable',
      'unsupported_tag',
    ]);
  });
});

describe('assertValidTemplate', () => {
  it('returns quietly when the template is valid', () => {
    // Prepare / Act / Assess
    expect(() => assertValidTemplate('Olá {{nome_cliente}} {{cpf}}', ['cpf'])).not.toThrow();
  });

  it('throws TEMPLATE_INVALID with every problem in Portuguese when the template is invalid', () => {
    // Prepare
    let caught: unknown;

    // Act
    try {
      assertValidTemplate('Olá {{cpf}} {{> rodape}}');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(DomainError);
    const error = caught as DomainError;
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Template inválido: Variável desconhecida \{\{cpf\}\}.*; Partials não/);
    expect(error.params.reason).toContain('; ');
  });
});

describe('templateVariables', () => {
  it('lists the names used, once each, in order of appearance', () => {
    // Prepare
    const template =
      '{{nome_cliente}} {{valor}} {{#codigo_pix}}{{codigo_pix}} {{.}}{{/codigo_pix}} {{{mensagem}}} ' +
      '{{^link_pagamento}}x{{/link_pagamento}} {{valor}} {{! nota }}';

    // Act
    const names = templateVariables(template);

    // Assess
    expect(names).toEqual(['nome_cliente', 'valor', 'codigo_pix', 'mensagem', 'link_pagamento']);
  });

  it('returns no names when the template is plain text', () => {
    // Prepare / Act / Assess
    expect(templateVariables('Sem variáveis')).toEqual([]);
  });

  it('throws TEMPLATE_INVALID when the template cannot be parsed', () => {
    // Prepare / Act / Assess
    expect(() => templateVariables('{{#codigo_pix}}')).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_INVALID' }) as unknown as Error,
    );
  });
});

describe('missingVariables', () => {
  it('reports absent, null, undefined, empty and blank values when they are required', () => {
    // Prepare
    const required = ['nome_cliente', 'valor', 'data_vencimento', 'codigo_pix', 'link_pagamento', 'titulo'];
    const variables = {
      nome_cliente: 'Ana',
      valor: null,
      data_vencimento: undefined,
      codigo_pix: '',
      link_pagamento: '   ',
    };

    // Act
    const missing = missingVariables(required, variables);

    // Assess
    expect(missing).toEqual(['valor', 'data_vencimento', 'codigo_pix', 'link_pagamento', 'titulo']);
  });

  it('accepts zero and other non-string values when they are present', () => {
    // Prepare / Act
    const missing = missingVariables(['dias_atraso', 'valor'], { dias_atraso: 0, valor: 10 });

    // Assess
    expect(missing).toEqual([]);
  });

  it('does not treat inherited Object members as provided', () => {
    // Prepare / Act
    const missing = missingVariables(['constructor', 'toString'], {});

    // Assess
    expect(missing).toEqual(['constructor', 'toString']);
  });
});
