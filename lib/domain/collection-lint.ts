/**
 * Collection rules: what a collection message and its sending hours may not do under Brazil's
 * consumer-protection code (CDC arts. 42 and 42-A) and state laws on collection contacts. Each
 * rule is a row with a stable code, its legal reference, a Portuguese message and a matcher.
 * Findings are warnings; a strict tenant (or `template set --strict`) refuses a template whose
 * text breaks a rule.
 *
 * Text matchers read a variation's own words (tags removed: what the ERP sends per contact is not
 * the template's), lower-cased with accents folded, by whole words. They aim at threats, exposure
 * and insults, not at facts: a credit-bureau registration (SPC, Serasa), a protest or a lawsuit
 * may be stated.
 */
import { CREDITOR_VARIABLES } from './creditor.ts';
import { findTaxId } from './tax-id.ts';
import { templateVariables } from './template.ts';
import type { BusinessCalendar, Weekday } from './tenant-types.ts';
import { TEMPLATE_TYPES, type TemplateType } from './types.ts';

export const COLLECTION_RULE_CODES = [
  'CDC_42_THREAT_POLICE',
  'CDC_42_THREAT_CRIMINAL',
  'CDC_42_PUBLIC_EXPOSURE',
  'CDC_42_THIRD_PARTY_CONTACT',
  'CDC_42_INSULT',
  'CDC_42A_CREDITOR_NAME',
  'CDC_42A_CREDITOR_DOCUMENT',
  'STATE_LAW_HOURS_WEEKDAY',
  'STATE_LAW_HOURS_SATURDAY',
  'STATE_LAW_HOURS_SUNDAY',
] as const;
export type CollectionRuleCode = (typeof COLLECTION_RULE_CODES)[number];

export interface CollectionFinding {
  code: CollectionRuleCode;
  reference: string;
  /** pt-BR: what is wrong and what the law asks. */
  message: string;
  /** 1-based position of the variation in the template; absent for a finding about the hours. */
  variation?: number;
  /** The words that matched, as written, or the windows outside the allowed hours. */
  excerpt?: string;
}

/** What a template's variations are checked against besides their text. */
export interface CollectionContext {
  type: TemplateType;
  requiredVariables: readonly string[];
  /** Variables every contact of the tenant has (its fixed `empresa`, `cnpj`). */
  fixedVariables: readonly string[];
  /** Names the creditor goes by (the configured creditor name, the tenant's name). */
  creditorNames: readonly string[];
}

/** One rule of the table. */
export interface CollectionRule {
  code: CollectionRuleCode;
  reference: string;
  message: string;
}

/** A variation as the text rules read it. */
interface Variation {
  text: FoldedText;
  /** Every variable the variation uses (values and sections). */
  variables: ReadonlySet<string>;
  context: CollectionContext;
}

interface VariationRule extends CollectionRule {
  /** The template types the rule applies to. */
  types: readonly TemplateType[];
  /** What breaks the rule in the variation (`{}` when nothing can be quoted), or undefined. */
  find(variation: Variation): { excerpt?: string } | undefined;
}

interface HoursRule extends CollectionRule {
  /** The weekdays it looks at and the window allowed on them in minutes (none: closed all day). */
  days: readonly Weekday[];
  allowed?: { start: number; end: number };
}

// --- Text: folded for matching, with the way back to what was written --------------------------

interface FoldedText {
  /** The variation's words, NFC, tags replaced by a space. */
  original: string;
  /** Lower case, accents removed: what the patterns read. */
  folded: string;
  /** `at[i]`: where folded character i comes from in `original` (plus the end). */
  at: number[];
}

// Any mustache tag ({{x}}, {{{x}}}, {{#x}}, {{/x}}, {{! x}}), replaced by a space so words stay apart.
const TAG = /\{\{\{?[^}]*\}?\}\}/g;

const foldText = (template: string): FoldedText => {
  const original = template.normalize('NFC').replace(TAG, ' ');
  let folded = '';
  const at: number[] = [];
  let position = 0;
  for (const char of original) {
    const plain = char.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    for (let i = 0; i < plain.length; i++) at.push(position);
    folded += plain;
    position += char.length;
  }
  at.push(original.length);
  return { original, folded, at };
};

const excerptOf = (text: FoldedText, start: number, end: number): string =>
  text.original.slice(text.at[start], text.at[end]).replace(/\s+/g, ' ').trim();

const NEGATIONS = new Set(['nao', 'nunca', 'jamais', 'nem']);
// Between a negation and the verb it denies: "não vamos expor", "nunca iremos divulgar".
const AUXILIARIES = new Set([
  'vamos',
  'vou',
  'vai',
  'vao',
  'iremos',
  'irei',
  'ira',
  'irao',
  'podemos',
  'pode',
  'podera',
  'poderemos',
  'devemos',
  'sera',
  'serao',
  'e',
  'sao',
  'foi',
]);

/** "Não divulgamos seus dados" is a reassurance, not a threat: the verb's own negation. */
const isNegated = (folded: string, index: number): boolean => {
  const words = folded.slice(Math.max(0, index - 40), index).match(/[a-z]+/g) ?? [];
  const last = words.at(-1);
  const beforeLast = words.at(-2);
  if (last && NEGATIONS.has(last)) return true;
  return Boolean(last && beforeLast && AUXILIARIES.has(last) && NEGATIONS.has(beforeLast));
};

/** A matcher: the first of `patterns` found (and, for verbs, not denied) in the folded text. */
const words =
  (patterns: readonly RegExp[], options: { negatable?: boolean } = {}) =>
  ({ text }: Variation): { excerpt: string } | undefined => {
    for (const pattern of patterns) {
      for (const match of text.folded.matchAll(new RegExp(pattern.source, 'g'))) {
        if (options.negatable && isNegated(text.folded, match.index)) continue;
        return { excerpt: excerptOf(text, match.index, match.index + match[0].length) };
      }
    }
    return undefined;
  };

// Future and infinitive forms of a verb stem (`avis` -> avisar, avisaremos, avisarão...): what a
// threat uses. Imperatives addressed to the debtor ("avise-nos", "ligue para nós") stay out.
const future = (...stems: string[]): string =>
  `(?:${stems.join('|')})(?:ar|arei|aremos|armos|amos|ara|arao|aria|ariamos|ando)`;

const THIRD_PARTIES =
  '(?:famili(?:a|as|ares)|parentes?|vizinh(?:o|os|a|as|anca)|chefes?|empregador(?:a|es|as)?|patr(?:ao|oes|oa)|' +
  'colegas?|conjuges?|espos[oa]|marido|amigos|referencias|recursos humanos|local de trabalho|seu trabalho|' +
  '(?:empresa|lugar) onde (?:voce )?trabalha)';
const CONTACT_VERBS = `(?:${future('avis', 'contat', 'lig', 'procur', 'inform', 'comunic', 'notific', 'fal', 'acion', 'visit', 'cobr', 'telefon')}|(?:entrar|entraremos|entrarei|entrara|entrarao) em contato)`;
const TOLD = '(?:(?:avis|contat|inform|comunic|notific|procur|acion)ad[oa]s?|saber|sabera|saberao|sabendo)';

// --- The table ---------------------------------------------------------------------------------

const ALL_TYPES = TEMPLATE_TYPES;
const COLLECTION_TYPES: readonly TemplateType[] = ['overdue', 'upcoming'];
const CDC_42 = 'CDC art. 42';
const CDC_42A = 'CDC art. 42-A';
const STATE_LAWS = 'legislação estadual (horário de cobrança)';

/** Uses `name` and every contact will have it: the tenant fixes it or the template requires it. */
const guaranteed = ({ variables, context }: Variation, name: string): boolean =>
  variables.has(name) && (context.fixedVariables.includes(name) || context.requiredVariables.includes(name));

export const VARIATION_RULES: readonly VariationRule[] = [
  {
    code: 'CDC_42_THREAT_POLICE',
    reference: CDC_42,
    message:
      'Ameaça com polícia, delegacia ou prisão: na cobrança o consumidor não pode ser ameaçado nem constrangido',
    types: ALL_TYPES,
    find: words([
      /\bpolicia(?:l|is|s)?\b/,
      /\bdelegacias?\b/,
      /\bdelegad[oa]s?\b/,
      /\bboletim de ocorrencia\b/,
      /\bpris(?:ao|oes)\b/,
      /\bpres[oa]s?\b/,
      /\bcadeia\b/,
      /\balgem\w*/,
    ]),
  },
  {
    code: 'CDC_42_THREAT_CRIMINAL',
    reference: CDC_42,
    message:
      'Ameaça de processo criminal ou acusação de crime: não ameace nem constranja o consumidor; ' +
      'informe só fatos (inclusão no SPC/Serasa, protesto, cobrança judicial)',
    types: ALL_TYPES,
    find: words([
      /\bcrim(?:e|es|inal|inais|inalmente|inos[oa]s?)\b/,
      /\bpena(?:l|is|lmente)\b/,
      /\bestelionat\w*/,
      /\bapropriacao indebita\b/,
      /\binqueritos?\b/,
    ]),
  },
  {
    code: 'CDC_42_PUBLIC_EXPOSURE',
    reference: CDC_42,
    message:
      'Ameaça de expor o devedor publicamente (expor, divulgar, publicar): na cobrança o consumidor ' +
      'não pode ser exposto a ridículo',
    types: ALL_TYPES,
    find: words(
      [
        /\bexp(?:or|orei|oremos|ormos|omos|onho|ora|orao|oria|oriamos|ondo|osicao)\b/,
        /\b(?:ser|sera|serao|ficar|ficara|ficarao)\s+expost[oa]s?\b/,
        /\bdivulg\w*/,
        new RegExp(`\\b${future('public', 'post', 'espalh')}\\b`),
        /\btorn\w*\s+(?:\w+\s+){0,2}public[oa]s?\b/,
        /\b(?:todos|todo mundo|toda a cidade|o bairro)\s+(?:vai|vao|ira|irao|ficara|ficarao)\s+(?:saber|ficar sabendo)\b/,
        /\b(?:mural|lista publica|quadro)\s+de\s+(?:devedores|inadimplentes|caloteiros)\b/,
      ],
      { negatable: true },
    ),
  },
  {
    code: 'CDC_42_THIRD_PARTY_CONTACT',
    reference: CDC_42,
    message:
      'Ameaça de procurar família, vizinhos, chefe ou empregador do devedor: a cobrança não pode ' +
      'expor o consumidor a terceiros nem interferir no trabalho dele',
    types: ALL_TYPES,
    find: words(
      [
        new RegExp(`\\b${CONTACT_VERBS}\\b[^.!?\\n]{0,60}?\\b${THIRD_PARTIES}\\b`),
        new RegExp(`\\b${THIRD_PARTIES}\\b(?:(?!\\b(?:nao|nunca|jamais)\\b)[^.!?\\n]){0,40}?\\b${TOLD}\\b`),
      ],
      { negatable: true },
    ),
  },
  {
    code: 'CDC_42_INSULT',
    reference: CDC_42,
    message:
      'Ofensa ao devedor (ex.: caloteiro, vagabundo): na cobrança o consumidor não pode ser exposto a ridículo',
    types: ALL_TYPES,
    find: words([
      /\bcalote(?:s|ir[oa]s?)?\b/,
      /\bvagabund[oa]s?\b/,
      /\bsafad[oa]s?\b/,
      /\bpilantras?\b/,
      /\bsem[\s-]vergonhas?\b/,
      /\bpicaret(?:a|as|agem)\b/,
      /\btrambiqueir[oa]s?\b/,
      /\bvigaristas?\b/,
      /\bvelhac[oa]s?\b/,
      /\bcanalhas?\b/,
      /\bdesonest[oa]s?\b/,
      /\bladr(?:ao|oes|ona|onas)\b/,
      /\bmentiros[oa]s?\b/,
      /\b(?:idiotas?|imbecis|imbecil|otari[oa]s?|burr[oa]s?)\b/,
      /\bma(?:u|us|l|s)?\s+(?:pagador(?:a|es|as)?|carater)\b/,
    ]),
  },
  {
    code: 'CDC_42A_CREDITOR_NAME',
    reference: CDC_42A,
    message:
      'A mensagem não identifica o credor pelo nome: use {{empresa}} (nome do credor configurado no ' +
      'tenant, --creditor-name, ou exigido do ERP em required_variables) ou escreva o nome no texto',
    types: COLLECTION_TYPES,
    find: (variation) => {
      if (guaranteed(variation, CREDITOR_VARIABLES.name)) return undefined;
      const written = variation.context.creditorNames
        .map((name) => foldText(name).folded.trim())
        .some((name) => name.length >= 2 && containsWords(variation.text.folded, name));
      return written ? undefined : {};
    },
  },
  {
    code: 'CDC_42A_CREDITOR_DOCUMENT',
    reference: CDC_42A,
    message:
      'A mensagem não traz o CNPJ (ou CPF) do credor: use {{cnpj}} (configurado no tenant, ' +
      '--creditor-document, ou exigido do ERP em required_variables) ou escreva o número no texto',
    types: COLLECTION_TYPES,
    find: (variation) =>
      guaranteed(variation, CREDITOR_VARIABLES.document) || findTaxId(variation.text.original)
        ? undefined
        : {},
  },
];

const containsWords = (folded: string, phrase: string): boolean =>
  new RegExp(`(?<![a-z0-9])${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9])`).test(folded);

const minutes = (time: string): number => {
  const [h, m] = time.split(':');
  return Number(h) * 60 + Number(m);
};

export const HOURS_RULES: readonly HoursRule[] = [
  {
    code: 'STATE_LAW_HOURS_WEEKDAY',
    reference: STATE_LAWS,
    message:
      'Horário de segunda a sexta fora das 08:00-20:00: várias leis estaduais limitam a esse horário ' +
      'os contatos de cobrança (atrasadas e a vencer)',
    days: [1, 2, 3, 4, 5],
    allowed: { start: 8 * 60, end: 20 * 60 },
  },
  {
    code: 'STATE_LAW_HOURS_SATURDAY',
    reference: STATE_LAWS,
    message:
      'Horário de sábado fora das 08:00-14:00: várias leis estaduais limitam a esse horário os ' +
      'contatos de cobrança (atrasadas e a vencer)',
    days: [6],
    allowed: { start: 8 * 60, end: 14 * 60 },
  },
  {
    code: 'STATE_LAW_HOURS_SUNDAY',
    reference: STATE_LAWS,
    message:
      'Horário aberto no domingo: várias leis estaduais proíbem contatos de cobrança (atrasadas e a ' +
      'vencer) aos domingos',
    days: [0],
  },
];

/** The whole table, in order: what the README documents and the tests go through. */
export const COLLECTION_RULES: readonly CollectionRule[] = [...VARIATION_RULES, ...HOURS_RULES].map(
  ({ code, reference, message }) => ({ code, reference, message }),
);

const finding = (
  rule: CollectionRule,
  extra: Omit<CollectionFinding, keyof CollectionRule>,
): CollectionFinding => ({
  code: rule.code,
  reference: rule.reference,
  message: rule.message,
  ...extra,
});

/** Every rule each variation breaks, in variation order, then rule order. */
export const lintCollectionTemplate = (
  variations: readonly string[],
  context: CollectionContext,
): CollectionFinding[] =>
  variations.flatMap((template, index) => {
    const variation: Variation = {
      text: foldText(template),
      variables: new Set(templateVariables(template)),
      context,
    };
    return VARIATION_RULES.filter((rule) => rule.types.includes(context.type)).flatMap((rule) => {
      const found = rule.find(variation);
      return found ? [finding(rule, { variation: index + 1, ...found })] : [];
    });
  });

const DAY_NAMES: Record<Weekday, string> = {
  0: 'dom',
  1: 'seg',
  2: 'ter',
  3: 'qua',
  4: 'qui',
  5: 'sex',
  6: 'sáb',
};

/** The calendar's windows that open where state laws close collection contacts, rule by rule. */
export const lintCollectionHours = (calendar: BusinessCalendar): CollectionFinding[] =>
  HOURS_RULES.flatMap((rule) => {
    const outside = rule.days.flatMap((day) =>
      (calendar.weekly[day] ?? [])
        .filter(
          (w) => !rule.allowed || minutes(w.start) < rule.allowed.start || minutes(w.end) > rule.allowed.end,
        )
        .map((w) => `${DAY_NAMES[day]} ${w.start}-${w.end}`),
    );
    return outside.length > 0 ? [finding(rule, { excerpt: outside.join(', ') })] : [];
  });

/** Findings as one Portuguese line each (`variação 2: CDC_42_INSULT (CDC art. 42) ... [“caloteiro”]`). */
export const describeFinding = (f: CollectionFinding): string =>
  `${f.variation ? `variação ${f.variation}` : 'horário'}: ${f.code} (${f.reference}) ${f.message}` +
  (f.excerpt ? ` [“${f.excerpt}”]` : '');
