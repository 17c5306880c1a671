import { addOptOut, removeOptOut } from '../../app/opt-outs.ts';
import { isErasedPhoneDigest } from '../../domain/debtor-erasure.ts';
import type { OptOut, Page } from '../../domain/types.ts';
import type { FeedbackStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import {
  type OptOutBody,
  optOutCreateRequestSchema,
  optOutCreateResponseSchema,
  optOutDeleteResponseSchema,
  optOutListQuerySchema,
  optOutListResponseSchema,
} from '../schemas/optouts.ts';
import { PHONE_PARAMS } from './path-parameters.ts';

type OptOutsDeps = AuthDeps & { store: FeedbackStore };

const view = (o: OptOut): OptOutBody => ({
  telefone: o.phone,
  origem: o.source,
  motivo: o.reason,
  created_at: o.at,
});

/** Store pages one search reads at most before answering with a cursor to read on. */
const SEARCH_PAGES = 20;

/**
 * The opt-outs whose phone contains `digits`, newest first: store pages are read until `limit`
 * matches or SEARCH_PAGES pages; whole pages, so the cursor never skips a match (a page of the
 * answer may hold a few more than `limit`).
 */
const searchOptOuts = async (
  c: OptOutsDeps,
  tenantId: string,
  digits: string,
  page: { limit: number; cursor?: string },
): Promise<Page<OptOut>> => {
  const items: OptOut[] = [];
  let cursor = page.cursor;
  for (let read = 0; read < SEARCH_PAGES; read++) {
    const next = await c.store.listOptOuts(tenantId, { limit: 100, cursor });
    // An erased debtor's digest is hex: its digits spell no phone.
    items.push(...next.items.filter((o) => !isErasedPhoneDigest(o.phone) && o.phone.includes(digits)));
    cursor = next.nextCursor ?? undefined;
    if (!cursor || items.length >= page.limit) break;
  }
  return { items, nextCursor: cursor ?? null };
};

const BASE = '/api/v1/billing/optouts';
const TAGS = ['Opt-out'];

/** The tenant's suppression list: list (newest first, paginated), add, remove. */
export const optOutsRoute: HttpRoute<OptOutsDeps> = {
  name: 'optouts',
  operations: [
    defineOperation({
      method: 'GET',
      path: BASE,
      auth: 'apiKey',
      scope: 'read',
      request: { query: { schema: optOutListQuerySchema } },
      responses: { 200: { description: 'Uma página da lista.', schema: optOutListResponseSchema } },
      errors: [],
      openapi: {
        operationId: 'optout_list',
        tags: TAGS,
        summary: 'Lista os telefones que não recebem mensagens',
        description:
          'Telefones do tenant que pediram para sair (resposta como SAIR, PARAR, STOP) ou foram cadastrados pela API; ' +
          'mais recentes primeiro. Com `telefone`, só os que contêm esses dígitos.',
      },
      handler: async (c: OptOutsDeps, { auth, query }) => {
        const page = query.telefone
          ? await searchOptOuts(c, auth.tenant.id, query.telefone.replace(/\D/g, ''), query)
          : await c.store.listOptOuts(auth.tenant.id, query);
        return {
          statusCode: 200,
          body: { success: true, opt_outs: page.items.map(view), next_cursor: page.nextCursor },
        };
      },
    }),
    defineOperation({
      method: 'POST',
      path: BASE,
      auth: 'apiKey',
      scope: 'control',
      request: {
        body: {
          schema: optOutCreateRequestSchema,
          example: { telefone: '+5511999999999', motivo: 'Pedido por e-mail' },
        },
      },
      responses: {
        201: { description: 'Incluído.', schema: optOutCreateResponseSchema },
        200: { description: 'Já estava na lista (nada mudou).', schema: optOutCreateResponseSchema },
      },
      errors: ['INVALID_PHONE'],
      openapi: {
        operationId: 'optout_add',
        tags: TAGS,
        summary: 'Coloca um telefone na lista de opt-out',
        description:
          'Lotes novos recusam o telefone (`OPTED_OUT`) e contatos já enfileiradas e ainda não enviados ficam `skipped_opt_out`. Idempotente.',
      },
      handler: async (c: OptOutsDeps, { auth, body }) => {
        const { optOut, created } = await addOptOut(c, auth.tenant.id, body);
        return { statusCode: created ? 201 : 200, body: { success: true, created, opt_out: view(optOut) } };
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: `${BASE}/{telefone}`,
      auth: 'apiKey',
      scope: 'control',
      request: { params: PHONE_PARAMS },
      responses: { 200: { description: 'Removido.', schema: optOutDeleteResponseSchema } },
      errors: ['INVALID_PHONE', 'OPT_OUT_NOT_FOUND'],
      openapi: { operationId: 'optout_remove', tags: TAGS, summary: 'Tira um telefone da lista de opt-out' },
      handler: async (c: OptOutsDeps, { auth, params }) => {
        const phone = await removeOptOut(c, auth.tenant, params.telefone);
        return {
          statusCode: 200,
          body: { success: true, message: 'Telefone removido da lista de opt-out', telefone: phone },
        };
      },
    }),
  ],
};
