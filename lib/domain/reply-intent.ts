/**
 * What a debtor's WhatsApp reply means, in Portuguese as people actually type it.
 *
 * Rules, in order (the first four are evaluated on every clause; a clause is a piece of the reply
 * between punctuation, line breaks or emoji, so "vou parar no banco, e pago" is two clauses):
 *
 * 1. Normalise: lower case, accents and ç dropped, emoji and punctuation become clause breaks,
 *    letters repeated 3+ times collapsed ("naaao"), WhatsApp spellings mapped to words
 *    ("naum"/"nau"/"n" -> "nao", "vc" -> "voce", "msg" -> "mensagem", "pagei" -> "paguei").
 * 2. Opt-out request, two strengths:
 *    - strong: a reply that is only a command ("SAIR", "parar", "PARE", "STOP", "cancelar",
 *      "descadastrar", with "por favor" and the like around it), or a phrase about receiving
 *      messages at all ("não quero mais receber", "pare de me mandar mensagem", "remover meu
 *      número", "não me mande mais mensagens", "quero sair da lista");
 *    - weak: a stop phrase whose object is the bill itself ("não me mande mais boleto",
 *      "pare de me cobrar").
 *    A verb such as "parar" or "sair" in another sense ("vou parar no banco e pago") is neither.
 * 3. Intent, first match wins: paid_claim ("já paguei", "segue o comprovante"; negated forms such
 *    as "ainda não paguei" do not count) > dispute ("não reconheço", "isso não é meu",
 *    "valor errado", "já cancelei esse serviço", "não vou pagar") > promise_to_pay ("vou pagar
 *    amanhã", "pago sexta", "consigo pagar dia 10") > opt_out (any strong or weak request) > other.
 * 4. `optOut` is true for a strong request whatever the intent ("já paguei, pare de me mandar
 *    mensagem" is a paid_claim that also opts out: the ERP hears about the payment, the phone
 *    stops receiving). A weak request opts out only when nothing else was said: in "não me mande
 *    mais boleto, já paguei" the stop phrase is explained by the payment claim, so the contact
 *    stays reachable and the intent is paid_claim.
 */

export type ReplyIntent = 'opt_out' | 'paid_claim' | 'promise_to_pay' | 'dispute' | 'other';

export interface ReplyClassification {
  intent: ReplyIntent;
  /** True when the sender asked to stop receiving messages: record the phone as opted out. */
  optOut: boolean;
}

/** WhatsApp spellings and abbreviations, mapped token by token to the word the rules expect. */
const SPELLINGS = new Map<string, string>(
  Object.entries({
    n: 'nao',
    naum: 'nao',
    nau: 'nao',
    naun: 'nao',
    nn: 'nao',
    vc: 'voce',
    vcs: 'voces',
    ce: 'voce',
    q: 'que',
    pq: 'porque',
    msg: 'mensagem',
    msgs: 'mensagens',
    mensagen: 'mensagem',
    menssagem: 'mensagem',
    menssagens: 'mensagens',
    mensage: 'mensagem',
    hj: 'hoje',
    amanham: 'amanha',
    amnh: 'amanha',
    dps: 'depois',
    sxt: 'sexta',
    jah: 'ja',
    eh: 'e',
    tah: 'ta',
    pagei: 'paguei',
    paguey: 'paguei',
    paquei: 'paguei',
    comprovate: 'comprovante',
    conprovante: 'comprovante',
    cobransa: 'cobranca',
    numro: 'numero',
    nmr: 'numero',
    pfv: 'pf',
    pfvr: 'pf',
    pls: 'pf',
  }),
);

/** Words that are only politeness or emphasis around a one-word command. */
const FILLERS = new Set([
  'pf',
  'por',
  'favor',
  'pode',
  'podem',
  'gentileza',
  'agora',
  'ja',
  'obrigado',
  'obrigada',
  'ok',
  'me',
]);

/** A whole reply made of these (plus fillers) is an opt-out command. */
const COMMANDS = new Set([
  'sair',
  'sai',
  'parar',
  'pare',
  'para',
  'parem',
  'stop',
  'cancelar',
  'cancela',
  'descadastrar',
  'descadastra',
  'descadastre',
  'remover',
  'remove',
  'unsubscribe',
  'chega',
  'basta',
]);

const MESSAGE_OBJECT =
  /^(mensagem|mensagens|notificac\w*|lembrete\w*|aviso\w*|contato\w*|whats\w*|zap\w*|nada|spam|ligac\w*|propaganda\w*)$/;
const BILL_OBJECT =
  /^(boleto\w*|cobranc\w*|fatura\w*|conta|contas|divida\w*|debito\w*|pix|link\w*|carne\w*|parcela\w*|cobrar)$/;

type ObjectKind = 'message' | 'bill' | 'none' | 'other';

/** What the words after a stop verb are about: the first message or bill word within five words. */
const objectOf = (rest: string): ObjectKind => {
  const words = rest.split(' ').filter(Boolean);
  if (words.every((w) => FILLERS.has(w) || w === 'mais')) return 'none';
  for (const word of words.slice(0, 5)) {
    if (MESSAGE_OBJECT.test(word)) return 'message';
    if (BILL_OBJECT.test(word)) return 'bill';
  }
  return 'other';
};

interface StopPhrase {
  pattern: RegExp;
  /** How a phrase with no object (`none`) or an unrelated one (`other`) counts. */
  none: 'strong' | null;
  other: 'strong' | null;
}

// Each pattern captures the rest of its clause (group 1) so the object can be read.
const STOP_PHRASES: readonly StopPhrase[] = [
  { pattern: /\b(?:nao|num) (?:quero|desejo|quer) (?:mais )?receber\b(.*)/, none: 'strong', other: 'strong' },
  { pattern: /\b(?:nao|num) (?:quero|desejo) mais\b(.*)/, none: 'strong', other: null },
  {
    pattern:
      /\bpar(?:ar|e|em|a) de (?:me |nos )?(?:mandar|enviar|receber|encher|incomodar|perturbar|ligar|chamar)\b(.*)/,
    none: 'strong',
    other: 'strong',
  },
  {
    pattern: /\b(?:nao|num) (?:me |nos )?(?:mande|mandem|manda|mandar|envie|enviem|envia|enviar) mais\b(.*)/,
    none: 'strong',
    other: 'strong',
  },
  // Without "mais" only an explicit object makes it a stop phrase ("não me mande mensagem").
  {
    pattern: /\b(?:nao|num) (?:me |nos )?(?:mande|mandem|manda|mandar|envie|enviem|envia|enviar)\b(.*)/,
    none: null,
    other: null,
  },
  {
    pattern: /\b(?:quero|queria|gostaria de|desejo) (?:sair|cancelar|parar)\b(.*)/,
    none: 'strong',
    other: null,
  },
  { pattern: /\bchega de\b(.*)/, none: null, other: null },
];

/** Phrases that are an opt-out whatever follows them. */
const STRONG_STOP =
  /\b(?:stop|unsubscribe|descadastr\w*|sair da lista|me (?:tira|tire|tirem|remove|remova|removam|retira|retire|exclui|exclua|apaga|apague)|(?:remov|retir|tir|exclu|delet|apag)\w* (?:o |a )?(?:meu |minha |esse |este )?(?:numero|telefone|contato|cadastro|celular|whats\w*|zap)|cancelar (?:o |a |as |os )?(?:envio|recebimento|inscricao|mensagens|notificacoes))\b/;

/** "Stop charging me": a stop phrase about the bill. */
const BILL_STOP =
  /\b(?:nao|num) (?:me )?(?:cobre|cobrem|cobra|cobrar)\b|\bpar(?:ar|e|em|a) de (?:me )?cobrar\b/;

// Up to two words may sit between the negation and the verb ("ainda nao paguei",
// "acho que nao paguei"), but "ja" right before the verb is always an affirmation.
const NOT_NEGATED = '(?<!\\b(?:nao|num|nunca) (?:\\w+ ){0,2})';
const rx = (source: string): RegExp => new RegExp(source);

const PAID_CLAIM: readonly RegExp[] = [
  /\bja (?:paguei|quitei|depositei|transferi|pago|paga|quitad[oa]|acertei)\b/,
  rx(`${NOT_NEGATED}\\b(?:paguei|quitei|depositei|transferi|acertei)\\b`),
  rx(`${NOT_NEGATED}\\bcomprovante\\b`),
  rx(
    `${NOT_NEGATED}\\b(?:fiz|efetuei|realizei|mandei|enviei) (?:o |a |um |uma )?(?:pagamento|pix|deposito|transferencia|ted|doc)\\b`,
  ),
  /\b(?:pagamento|pix|deposito|transferencia|boleto|conta|divida|fatura) (?:ja )?(?:foi |esta |ta )?(?:feit[oa]|efetuad[oa]|realizad[oa]|confirmad[oa]|enviad[oa]|pag[oa]|quitad[oa])\b/,
  rx(`${NOT_NEGATED}\\b(?:foi|esta|ta|to|estou|tudo|ficou) (?:pag[oa]|quitad[oa]|em dia)\\b`),
  /^(?:ja )?(?:pago|paga|quitado|quitada)$/,
];

const DISPUTE: readonly RegExp[] = [
  /\b(?:nao|num) reconhe\w*|\bdesconhec\w*/,
  /\b(?:nao|num) (?:e|sao) (?:meu|minha|meus|minhas|comigo|d[ae] minha)\b/,
  /\b(?:valor|cobranc\w*|divida|conta|boleto|fatura|debito|juros|multa)\w* (?:esta |ta |veio |com |e |)(?:errad\w*|incorret\w*|indevid\w*|a mais|absurd\w*|abusiv\w*)/,
  /\b(?:ja )?cancelei\b/,
  /\b(?:servico|contrato|plano|assinatura|conta|pedido|compra) (?:ja )?(?:foi |esta |ta )?cancelad[oa]\b/,
  /\b(?:nao|num) (?:te |lhe |lhes )?(?:devo|to devendo|estou devendo|tenho divida|tenho debito)\b/,
  /\b(?:nao|num|nunca) (?:contratei|comprei|solicitei|assinei|usei|autorizei|pedi)\b/,
  /\b(?:nao|num|nunca) (?:fiz|tive) (?:essa|esse|isso|nenhum|nenhuma|compra|contrato|cadastro)\b/,
  /\b(?:numero errado|pessoa errada|engano|nao sou (?:eu|o|a|ele|ela|esse|essa)|nao conhec\w* (?:esse|essa|ninguem|o|a|ele|ela))\b/,
  /\b(?:contest\w*|fraude|golpe|procon)\b/,
  /\b(?:nao|num|nunca) (?:vou|irei) pagar\b/,
];

const WHEN =
  '(?:amanha|hoje|depois|logo|sexta|segunda|terca|quarta|quinta|sabado|domingo|dia \\d+|semana|mes|ate|no dia|assim que|quando|final|fim|inicio|proxim\\w*|mais tarde)';

const PROMISE: readonly RegExp[] = [
  rx(
    `${NOT_NEGATED}\\bvou (?:\\w+ ){0,2}?(?:pagar|quitar|acertar|depositar|transferir|efetuar|regularizar|fazer o pix|fazer o pagamento|mandar o pix)\\b`,
  ),
  rx(`${NOT_NEGATED}\\bvou\\b.*\\b(?:pago|acerto|quito)\\b`),
  rx(
    `${NOT_NEGATED}\\b(?:consigo|posso|irei|pretendo|prometo|vamos|iremos|tento|da pra|vou conseguir) (?:\\w+ )?(?:pagar|quitar|acertar)\\b`,
  ),
  rx(`\\b(?:pago|pagamos|acerto|quito|deposito) (?:\\w+ ){0,2}?${WHEN}\\b`),
  rx(`\\b${WHEN} (?:eu )?(?:pago|pagarei|acerto|quito|deposito|faco o pix)\\b`),
  /\b(?:pagarei|pagaremos|acertarei|quitarei)\b/,
  /\bassim que (?:eu )?(?:receber|puder|cair)\b/,
];

/** Lower case, no accents, spellings fixed, split into clauses of single-spaced words. */
const clausesOf = (text: string): string[] =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/(\p{L})\1{2,}/gu, '$1')
    // Anything that is not a letter, digit or space (punctuation, emoji) ends a clause.
    .split(/[^a-z0-9 \t]+/)
    .map((clause) =>
      clause
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => SPELLINGS.get(word) ?? word)
        .join(' '),
    )
    .filter(Boolean);

type Strength = 'strong' | 'weak' | null;

const stopStrength = (clause: string): Strength => {
  if (STRONG_STOP.test(clause)) return 'strong';
  let found: Strength = null;
  for (const phrase of STOP_PHRASES) {
    const match = phrase.pattern.exec(clause);
    if (!match) continue;
    const kind = objectOf(match[1] ?? '');
    const strength: Strength =
      kind === 'message' ? 'strong' : kind === 'bill' ? 'weak' : kind === 'none' ? phrase.none : phrase.other;
    if (strength === 'strong') return 'strong';
    found = found ?? strength;
  }
  if (BILL_STOP.test(clause)) return 'weak';
  return found;
};

/** True when the whole reply is one opt-out command word, possibly repeated or with politeness. */
const isCommand = (clauses: readonly string[]): boolean => {
  const words = clauses.join(' ').split(' ');
  const meaningful = words.filter((w) => !FILLERS.has(w));
  return meaningful.length > 0 && meaningful.length <= 3 && meaningful.every((w) => COMMANDS.has(w));
};

/** Classifies a debtor's reply (Portuguese first) into an intent and an opt-out flag. */
export const classifyReply = (text: string): ReplyClassification => {
  const clauses = clausesOf(text);
  if (clauses.length === 0) return { intent: 'other', optOut: false };

  const strengths = clauses.map(stopStrength);
  const strong = isCommand(clauses) || strengths.includes('strong');
  const weak = strengths.includes('weak');
  const any = (rules: readonly RegExp[]): boolean => clauses.some((c) => rules.some((r) => r.test(c)));

  const intent: ReplyIntent | null = any(PAID_CLAIM)
    ? 'paid_claim'
    : any(DISPUTE)
      ? 'dispute'
      : any(PROMISE)
        ? 'promise_to_pay'
        : null;
  if (intent) return { intent, optOut: strong };
  if (strong || weak) return { intent: 'opt_out', optOut: true };
  return { intent: 'other', optOut: false };
};
