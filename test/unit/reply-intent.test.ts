import { describe, expect, it } from 'vitest';
import { classifyReply, type ReplyIntent } from '../../lib/domain/reply-intent.ts';

type Row = [reply: string, intent: ReplyIntent, optOut: boolean];

const OPT_OUT: Row[] = [
  ['SAIR', 'opt_out', true],
  ['sair', 'opt_out', true],
  ['Parar', 'opt_out', true],
  ['PARE!!!', 'opt_out', true],
  ['stop', 'opt_out', true],
  ['STOP 🛑', 'opt_out', true],
  ['Cancelar.', 'opt_out', true],
  ['descadastrar', 'opt_out', true],
  ['  sair   por favor  ', 'opt_out', true],
  ['Pode parar!', 'opt_out', true],
  ['Não quero mais receber', 'opt_out', true],
  ['naum quero mais receber essas msg', 'opt_out', true],
  ['pare de me mandar mensagem', 'opt_out', true],
  ['Para de mandar msg pra mim 😡', 'opt_out', true],
  ['vc pode parar de me enviar mensagens?', 'opt_out', true],
  ['remover meu número', 'opt_out', true],
  ['Favor remover o meu telefone da lista', 'opt_out', true],
  ['não me mande mais mensagens', 'opt_out', true],
  ['NÃO ME MANDE MAIS NADA', 'opt_out', true],
  ['quero sair da lista', 'opt_out', true],
  ['me tira dessa lista', 'opt_out', true],
  ['naaao quero mais', 'opt_out', true],
  // A stop phrase about the bill, with nothing else said, still asks to stop receiving.
  ['não me mande mais boleto', 'opt_out', true],
];

const PAID: Row[] = [
  ['já paguei', 'paid_claim', false],
  ['Ja paguei!', 'paid_claim', false],
  ['jah pagei', 'paid_claim', false],
  ['paguei ontem', 'paid_claim', false],
  ['segue o comprovante', 'paid_claim', false],
  ['Pago.', 'paid_claim', false],
  ['fiz o pix agora de manhã', 'paid_claim', false],
  ['o boleto já está pago', 'paid_claim', false],
  ['tá pago desde segunda 👍', 'paid_claim', false],
  // The claim of payment explains a stop phrase about the bill: not an opt-out.
  ['não me mande mais boleto, já paguei', 'paid_claim', false],
  ['nao me manda mais cobrança ja paguei', 'paid_claim', false],
  // A stop phrase about messages is still an opt-out, reported with the claim.
  ['já paguei, pare de me mandar mensagem', 'paid_claim', true],
];

const PROMISE: Row[] = [
  ['vou pagar amanhã', 'promise_to_pay', false],
  ['Vou pagar amanha', 'promise_to_pay', false],
  ['pago sexta', 'promise_to_pay', false],
  ['consigo pagar dia 10', 'promise_to_pay', false],
  ['vou parar no banco e pago', 'promise_to_pay', false],
  ['hj eu pago', 'promise_to_pay', false],
  ['ainda não paguei, pago dia 15/05', 'promise_to_pay', false],
  ['assim que eu receber o salário eu acerto', 'promise_to_pay', false],
  ['vou sair agora e pago depois', 'promise_to_pay', false],
];

const DISPUTE: Row[] = [
  ['não reconheço essa dívida', 'dispute', false],
  ['Nao reconheco essa divida!!', 'dispute', false],
  ['isso não é meu', 'dispute', false],
  ['isso nao eh meu', 'dispute', false],
  ['valor errado', 'dispute', false],
  ['O valor está errado', 'dispute', false],
  ['já cancelei esse serviço', 'dispute', false],
  ['número errado', 'dispute', false],
  ['não devo nada pra vcs', 'dispute', false],
  ['não vou pagar isso', 'dispute', false],
  ['nunca contratei isso', 'dispute', false],
];

const OTHER: Row[] = [
  ['ok', 'other', false],
  ['Obrigado!', 'other', false],
  ['obg 🙏', 'other', false],
  ['quem é?', 'other', false],
  ['Bom dia', 'other', false],
  ['👍', 'other', false],
  ['', 'other', false],
  ['ainda não paguei', 'other', false],
  ['não consigo pagar agora', 'other', false],
  ['qual o valor?', 'other', false],
  ['vou parar no banco', 'other', false],
  ['não quero mais esse plano', 'other', false],
];

describe('classifyReply', () => {
  it.each([...OPT_OUT, ...PAID, ...PROMISE, ...DISPUTE, ...OTHER])(
    'classifies %j as %s (optOut %s)',
    (reply, intent, optOut) => {
      // Act
      const result = classifyReply(reply);

      // Assess
      expect(result).toEqual({ intent, optOut });
    },
  );

  it('has a table of at least 30 Portuguese replies covering every intent', () => {
    // Prepare
    const rows = [...OPT_OUT, ...PAID, ...PROMISE, ...DISPUTE, ...OTHER];

    // Assess
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(new Set(rows.map(([, intent]) => intent))).toEqual(
      new Set(['opt_out', 'paid_claim', 'promise_to_pay', 'dispute', 'other']),
    );
  });

  it('does not read "parar" or "sair" inside a sentence as an opt-out', () => {
    // Act
    const results = ['vou parar no banco e pago', 'vou sair pra pagar', 'quando parar de chover eu pago'].map(
      classifyReply,
    );

    // Assess
    expect(results.map((r) => r.optOut)).toEqual([false, false, false]);
  });

  it('ignores case, accents, punctuation, emoji and extra spaces', () => {
    // Prepare
    const spellings = [
      'Não quero mais receber',
      'NAO QUERO MAIS RECEBER!!!',
      '  nao   quero mais receber 🙄 ',
    ];

    // Act
    const results = spellings.map(classifyReply);

    // Assess
    for (const result of results) expect(result).toEqual({ intent: 'opt_out', optOut: true });
  });
});
