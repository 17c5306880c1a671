import { describe, expect, it } from 'vitest';
import type { DebtorErasureAnswer } from '../../lib/app/erase-debtor.ts';
import { NO_ERASURE } from '../../lib/domain/debtor-erasure.ts';
import { debtorErasureResponseSchema } from '../../lib/http/schemas/debtors.ts';
import { debtorErasureView } from '../../lib/http/views.ts';

const answer = (overrides: Partial<DebtorErasureAnswer>): DebtorErasureAnswer => ({
  erasureId: '7f1c2a8e-4b5d-4c6e-8f9a-0b1c2d3e4f5a',
  counts: { ...NO_ERASURE, contacts: 2, messages: 3 },
  inFlight: 0,
  queuesChecked: 100,
  state: 'complete',
  ...overrides,
});

describe('the answer of DELETE /debtors/{telefone}', () => {
  it('tells the ERP whether to repeat the request, and why', () => {
    // Act
    const views = [
      answer({}),
      answer({ state: 'in_progress' }),
      answer({ state: 'in_progress', inFlight: 1 }),
      answer({ state: 'busy', queuesChecked: 0 }),
    ].map(debtorErasureView);

    // Assess
    expect(views.map((view) => [view.complete, view.message])).toEqual([
      [true, 'Dados pessoais do devedor apagados'],
      [
        false,
        'Exclusão em andamento: 100 fila(s) percorrida(s) até agora; repita a requisição para continuar',
      ],
      [
        false,
        'Dados pessoais apagados, exceto 1 lembrete(s) sendo enviado(s) agora: repita em alguns segundos',
      ],
      [false, 'Outra requisição está apagando os dados deste telefone agora: repita em alguns segundos'],
    ]);
    expect(views[1]).toMatchObject({
      queues_checked: 100,
      in_flight: 0,
      erased: { contacts: 2, messages: 3 },
    });
    for (const view of views) expect(debtorErasureResponseSchema.parse(view)).toEqual(view);
  });
});
