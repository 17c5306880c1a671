import { describe, expect, it } from 'vitest';
import {
  COLLECTION_RULE_CODES,
  COLLECTION_RULES,
  type CollectionContext,
  type CollectionRuleCode,
  describeFinding,
  lintCollectionHours,
  lintCollectionTemplate,
} from '../../lib/domain/collection-lint.ts';
import type { BusinessCalendar } from '../../lib/domain/tenant-types.ts';

/** An overdue reminder of a tenant whose name and CNPJ are fixed values. */
const identified: CollectionContext = {
  type: 'overdue',
  requiredVariables: [],
  fixedVariables: ['empresa', 'cnpj'],
  creditorNames: ['ACME Ltda'],
};

/** The last line that identifies the creditor (art. 42-A), so only art. 42 is left to find. */
const SIGNATURE = '\n{{empresa}}, CNPJ {{cnpj}}';

/** The codes a single variation breaks. */
const codesOf = (text: string, context: CollectionContext = identified): CollectionRuleCode[] =>
  lintCollectionTemplate([text], context).map((f) => f.code);

/** The codes a reminder with `text` breaks, once signed by its creditor. */
const art42CodesOf = (text: string): CollectionRuleCode[] => codesOf(text + SIGNATURE);

const art42Cases: Array<[CollectionRuleCode, string[], string[]]> = [
  [
    'CDC_42_THREAT_POLICE',
    [
      'Vamos chamar a polícia.',
      'Se não pagar, a POLICIA será acionada',
      'Faremos um boletim de ocorrência',
      'Você pode ir para a cadeia',
      'Risco de prisão',
      'Vamos à delegacia',
    ],
    [
      'Leia nossa política de privacidade.',
      'Seu nome poderá ser incluído no SPC/Serasa.',
      'Valor: R$ 10,00. Empresa parceira.',
      'Preço especial para pagamento hoje',
    ],
  ],
  [
    'CDC_42_THREAT_CRIMINAL',
    [
      'Você responderá a um processo criminal.',
      'Não pagar é crime.',
      'Entraremos com uma ação penal',
      'Isso configura estelionato',
      'Abriremos um inquérito',
    ],
    [
      'Seu nome poderá ser incluído no SPC/Serasa.',
      'O título poderá ser protestado em cartório.',
      'Sem acordo, a cobrança poderá seguir pela via judicial.',
      'Vale a pena pagar em dia.',
      'Cuidado com golpes: nunca pedimos sua senha.',
    ],
  ],
  [
    'CDC_42_PUBLIC_EXPOSURE',
    [
      'Vamos expor você.',
      'Vamos divulgar sua dívida.',
      'Se não pagar, vamos divulgar seu nome nas redes sociais',
      'Publicaremos seu nome na lista',
      'Tornaremos sua dívida pública',
      'Todo mundo vai saber',
      'Seu nome vai ser exposto',
      'Seu nome estará no mural de devedores',
    ],
    [
      'Não divulgamos seus dados a terceiros.',
      'Nunca vamos expor seu nome.',
      'Seu nome poderá ser incluído no SPC/Serasa.',
      'Conforme exposto no contrato, o valor é R$ 10,00.',
      'Siga-nos nas redes sociais.',
    ],
  ],
  [
    'CDC_42_THIRD_PARTY_CONTACT',
    [
      'Vamos avisar seus vizinhos.',
      'Vamos avisar sua família.',
      'Vamos avisar seu chefe.',
      'Entraremos em contato com seu empregador.',
      'Ligaremos para o seu trabalho',
      'Informaremos seus familiares',
      'Sua família será avisada',
      'Seus vizinhos vão ficar sabendo',
      'Vamos procurar suas referências',
    ],
    [
      'Sua família merece tranquilidade: entre em contato conosco.',
      'Avise-nos se precisar de mais prazo para você e sua família.',
      'Não entraremos em contato com sua família.',
      'Sua família não será avisada.',
      'Fale com nosso time pelo WhatsApp.',
    ],
  ],
  [
    'CDC_42_INSULT',
    [
      'Seu caloteiro!',
      'Seu VAGABUNDO',
      'Pague, sua caloteira',
      'Você deu calote',
      'Deixe de ser pilantra',
      'Você é uma má pagadora',
      'Sem-vergonha!',
    ],
    [
      'Olá! Consta em aberto uma fatura.',
      'Obrigado pela preferência.',
      'Mais detalhes no link.',
      'Vagas abertas na loja.',
    ],
  ],
];

describe('collection rules (CDC art. 42)', () => {
  for (const [code, flagged, allowed] of art42Cases) {
    it.each(flagged)(`${code} flags "%s"`, (text) => {
      expect(art42CodesOf(text)).toEqual([code]);
    });
    it.each(allowed)(`${code} leaves "%s" alone`, (text) => {
      expect(art42CodesOf(text)).toEqual([]);
    });
  }

  it('matches without regard to case or accents and quotes the words as written', () => {
    // Act
    const [finding] = lintCollectionTemplate([`Vamos chamar a POLÍCIA, viu?${SIGNATURE}`], identified);
    const [folded] = lintCollectionTemplate([`vamos chamar a policia${SIGNATURE}`], identified);

    // Assess
    expect(finding).toMatchObject({ code: 'CDC_42_THREAT_POLICE', variation: 1, excerpt: 'POLÍCIA' });
    expect(folded?.code).toBe('CDC_42_THREAT_POLICE');
  });

  it('matches whole words only: an insult inside another word is no insult', () => {
    expect(art42CodesOf('Na Safadinha Presentes e na Caloteirinho Doces, apresentação grátis.')).toEqual([]);
    expect(art42CodesOf('Empresário, seu presidente pagou?')).toEqual([]);
  });

  it('reads the text, not the tags: a variable named like a threat word is not one', () => {
    expect(art42CodesOf('Olá {{nome_cliente}}, {{#policia}}x{{/policia}} fatura {{numero_fatura}}')).toEqual(
      [],
    );
  });

  it('applies to every type, notifications too', () => {
    expect(codesOf('Vamos chamar a polícia', { ...identified, type: 'notification' })).toEqual([
      'CDC_42_THREAT_POLICE',
    ]);
  });

  it('reports every rule each variation breaks, numbered from 1', () => {
    // Act
    const findings = lintCollectionTemplate(
      [`Olá {{nome_cliente}}${SIGNATURE}`, `Caloteiro, vamos chamar a polícia${SIGNATURE}`],
      identified,
    );

    // Assess
    expect(findings.map((f) => [f.variation, f.code])).toEqual([
      [2, 'CDC_42_THREAT_POLICE'],
      [2, 'CDC_42_INSULT'],
    ]);
  });
});

describe('collection rules (CDC art. 42-A)', () => {
  const anonymous: CollectionContext = {
    type: 'overdue',
    requiredVariables: [],
    fixedVariables: [],
    creditorNames: ['ACME Ltda'],
  };

  it('warns when a reminder names neither the creditor nor its CNPJ', () => {
    expect(codesOf('Olá {{nome_cliente}}, sua fatura venceu.', anonymous)).toEqual([
      'CDC_42A_CREDITOR_NAME',
      'CDC_42A_CREDITOR_DOCUMENT',
    ]);
  });

  it('is satisfied by {{empresa}} and {{cnpj}} when the tenant fixes them', () => {
    expect(codesOf('{{empresa}} (CNPJ {{cnpj}}): sua fatura venceu.', identified)).toEqual([]);
  });

  it('is satisfied by {{empresa}} and {{cnpj}} when the template requires them from the ERP', () => {
    // Act
    const codes = codesOf('{{empresa}} (CNPJ {{cnpj}}): sua fatura venceu.', {
      ...anonymous,
      requiredVariables: ['empresa', 'cnpj'],
    });

    // Assess
    expect(codes).toEqual([]);
  });

  it('warns about {{empresa}} and {{cnpj}} that nobody guarantees (they would print empty)', () => {
    expect(codesOf('{{empresa}} (CNPJ {{cnpj}}): sua fatura venceu.', anonymous)).toEqual([
      'CDC_42A_CREDITOR_NAME',
      'CDC_42A_CREDITOR_DOCUMENT',
    ]);
  });

  it('is satisfied by the name and a valid CNPJ or CPF written in the text', () => {
    expect(codesOf('Acme LTDA, CNPJ 11.222.333/0001-81: fatura vencida.', anonymous)).toEqual([]);
    expect(codesOf('ACME Ltda (CPF 52998224725): fatura vencida.', anonymous)).toEqual([]);
  });

  it('does not take a number with wrong check digits, or another name, for an identification', () => {
    expect(codesOf('ACME Ltda, CNPJ 11.222.333/0001-82.', anonymous)).toEqual(['CDC_42A_CREDITOR_DOCUMENT']);
    expect(codesOf('ACMEX Ltda, CNPJ 11.222.333/0001-81.', anonymous)).toEqual(['CDC_42A_CREDITOR_NAME']);
  });

  it('asks nothing of notifications, which are not collection messages', () => {
    expect(codesOf('Olá {{nome_cliente}}', { ...anonymous, type: 'notification' })).toEqual([]);
  });

  it('applies to upcoming reminders too', () => {
    expect(codesOf('Olá {{nome_cliente}}', { ...anonymous, type: 'upcoming' })).toHaveLength(2);
  });
});

describe('collection rules (state laws on hours)', () => {
  const calendar = (weekly: BusinessCalendar['weekly']): BusinessCalendar => ({
    timezone: 'America/Sao_Paulo',
    weekly,
    nationalHolidays: true,
    closedDates: [],
  });
  const window = (start: string, end: string) => [{ start, end }];

  it.each([
    [
      'weekdays 08:00-20:00, Saturday 08:00-14:00',
      { 1: window('08:00', '20:00'), 6: window('08:00', '14:00') },
    ],
    ['the default 09:00-18:00 on weekdays', { 1: window('09:00', '18:00'), 5: window('09:00', '18:00') }],
    ['no window at all', {}],
  ])('finds nothing for %s', (_label, weekly) => {
    expect(lintCollectionHours(calendar(weekly))).toEqual([]);
  });

  it.each([
    [
      'a weekday opening at 07:00',
      { 2: window('07:00', '12:00') },
      'STATE_LAW_HOURS_WEEKDAY',
      'ter 07:00-12:00',
    ],
    [
      'a weekday closing at 21:00',
      { 5: window('13:00', '21:00') },
      'STATE_LAW_HOURS_WEEKDAY',
      'sex 13:00-21:00',
    ],
    [
      'a weekday until midnight',
      { 1: window('18:00', '24:00') },
      'STATE_LAW_HOURS_WEEKDAY',
      'seg 18:00-24:00',
    ],
    ['Saturday after 14:00', { 6: window('09:00', '18:00') }, 'STATE_LAW_HOURS_SATURDAY', 'sáb 09:00-18:00'],
    ['Saturday before 08:00', { 6: window('07:30', '12:00') }, 'STATE_LAW_HOURS_SATURDAY', 'sáb 07:30-12:00'],
    ['any Sunday window', { 0: window('10:00', '12:00') }, 'STATE_LAW_HOURS_SUNDAY', 'dom 10:00-12:00'],
  ] as const)('warns about %s', (_label, weekly, code, excerpt) => {
    expect(lintCollectionHours(calendar(weekly))).toEqual([expect.objectContaining({ code, excerpt })]);
  });

  it('lists every offending window of a rule in one finding', () => {
    // Act
    const findings = lintCollectionHours(
      calendar({
        1: window('07:00', '12:00'),
        3: [...window('08:00', '12:00'), ...window('14:00', '22:00')],
      }),
    );

    // Assess
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'STATE_LAW_HOURS_WEEKDAY',
        excerpt: 'seg 07:00-12:00, qua 14:00-22:00',
      }),
    ]);
  });
});

describe('the rule table', () => {
  it('has every code once, each with its legal reference and a Portuguese message', () => {
    expect(COLLECTION_RULES.map((r) => r.code)).toEqual([...COLLECTION_RULE_CODES]);
    for (const rule of COLLECTION_RULES) {
      expect(rule.reference).toMatch(/^(CDC art\. 42(-A)?|legislação estadual)/);
      expect(rule.message).toMatch(/[ãçéêóú]/);
    }
  });

  it('describes a finding in one Portuguese line with its code, reference and quote', () => {
    // Act
    const [finding] = lintCollectionTemplate([`Seu caloteiro${SIGNATURE}`], identified);

    // Assess
    expect(finding && describeFinding(finding)).toMatch(
      /^variação 1: CDC_42_INSULT \(CDC art\. 42\) Ofensa ao devedor .* \[“caloteiro”\]$/,
    );
  });
});
