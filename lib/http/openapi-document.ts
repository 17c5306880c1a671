import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { evolutionWebhookSchema } from '../adapters/gateway/evolution-webhook-events.ts';
import {
  API_KEY_HEADER,
  billingEventsQuerySchema,
  billingEventsResponseSchema,
  campaignResponseSchema,
  conversationsResponseSchema,
  dryRunResponseSchema,
  errorResponseSchema,
  externalIdParamsSchema,
  healthResponseSchema,
  optOutCreateRequestSchema,
  optOutCreateResponseSchema,
  optOutDeleteResponseSchema,
  optOutListQuerySchema,
  optOutListResponseSchema,
  phoneParamsSchema,
  queueContactsQuerySchema,
  queueContactsResponseSchema,
  queueControlRequestSchema,
  queueControlResponseSchema,
  queueIdParamsSchema,
  queueListQuerySchema,
  queueListResponseSchema,
  queueStatusSchema,
  sendBillingRequestSchema,
  sendBillingResponseSchema,
  sendQuerySchema,
  webhookAckSchema,
  webhookParamsSchema,
} from './api-schemas.ts';

/**
 * The OpenAPI 3.1 document of the product's HTTP API, generated from the zod schemas of
 * api-schemas.ts (never written by hand, so it cannot drift from validation).
 */

const SECURITY_SCHEME = 'BillingApiKey';
const BASE = '/api/v1/billing';

/** The guide's "Exemplo 1" request body, verbatim. */
export const GUIDE_EXAMPLE_1 = {
  external_id: 'fatura-67890',
  callback_url: 'https://meu-erp.com/webhooks/billing',
  contacts: [
    {
      nome_cliente: 'João Silva',
      telefone: '+5511999999999',
      valor: 'R$ 150,00',
      data_vencimento: '10/12/2025',
      valor_total: 'R$ 165,00',
      codigo_pix: '00020126580014br.gov.bcb.pix...',
      link_pagamento: 'https://pay.meu-erp.com/invoice/67890',
      numero_fatura: '2025-67890',
    },
  ],
  metadata: { cliente_id: '12345', empresa: 'Empresa XYZ' },
};

const UPCOMING_EXAMPLE = {
  external_id: 'fatura-67891',
  contacts: [
    {
      nome_cliente: 'Maria Souza',
      telefone: '11988887777',
      valor: 'R$ 89,90',
      data_vencimento: '2025-12-20',
      link_pagamento: 'https://pay.meu-erp.com/invoice/67891',
    },
  ],
};

const NOTIFICATION_EXAMPLE = {
  external_id: 'aviso-2025-12-manutencao',
  contacts: [
    {
      nome_cliente: 'João Silva',
      telefone: '+5511999999999',
      titulo: 'Manutenção programada',
      mensagem: 'O sistema ficará indisponível no domingo das 2h às 4h.',
    },
  ],
};

const json = (
  schema: z.ZodType,
  extra: { example?: unknown; examples?: Record<string, { value: unknown }> } = {},
) => ({
  'application/json': { schema, ...extra },
});

const errorResponse = (
  description: string,
  codes: string[],
  headers?: ResponseConfig['headers'],
): ResponseConfig => ({
  description: `${description} Códigos: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
  ...(headers ? { headers } : {}),
  content: json(errorResponseSchema),
});

const RATE_LIMIT_HEADERS: ResponseConfig['headers'] = {
  'Retry-After': { description: 'Segundos até poder tentar de novo.', schema: { type: 'integer' } },
  'RateLimit-Limit': {
    description: 'Requisições permitidas por hora para esta API Key.',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': {
    description: 'Requisições restantes na janela atual.',
    schema: { type: 'integer' },
  },
  'RateLimit-Reset': { description: 'Segundos até a janela atual terminar.', schema: { type: 'integer' } },
};

/** Responses every authenticated operation can give. */
const AUTH_RESPONSES: Record<string, ResponseConfig> = {
  401: errorResponse('API Key ausente, inválida, inativa ou expirada.', [
    'API_KEY_MISSING',
    'API_KEY_INVALID',
    'API_KEY_INACTIVE',
    'API_KEY_EXPIRED',
  ]),
  403: errorResponse('IP não autorizado, tipo de template não permitido ou API desabilitada.', [
    'IP_NOT_ALLOWED',
    'TEMPLATE_TYPE_NOT_ALLOWED',
    'API_DISABLED',
  ]),
  429: errorResponse(
    'Limite de requisições por hora (ou de mensagens por dia) excedido.',
    ['RATE_LIMITED', 'DAILY_LIMIT_EXCEEDED'],
    RATE_LIMIT_HEADERS,
  ),
};

const SEND_TYPES = [
  {
    type: 'overdue',
    summary: 'Envia cobrança atrasada',
    description:
      'Cria uma campanha de cobrança atrasada (`data_vencimento` no passado) e enfileira o envio, respeitando o horário comercial do tenant. ' +
      'Variáveis calculadas: `dias_atraso`, `status_vencimento`.',
    example: GUIDE_EXAMPLE_1,
  },
  {
    type: 'upcoming',
    summary: 'Envia cobrança a vencer',
    description:
      'Cria uma campanha de lembrete de vencimento (`data_vencimento` hoje ou no futuro), respeitando o horário comercial. ' +
      'Variáveis calculadas: `dias_para_vencer`, `status_vencimento`.',
    example: UPCOMING_EXAMPLE,
  },
  {
    type: 'notification',
    summary: 'Envia notificação/aviso',
    description:
      'Envia notificação/aviso (24/7, sem respeitar horário comercial). Use `titulo` e `mensagem`.',
    example: NOTIFICATION_EXAMPLE,
  },
] as const;

const authenticated = { security: [{ [SECURITY_SCHEME]: [] }] };
const open = { security: [] };

const sendRoute = (s: (typeof SEND_TYPES)[number]): RouteConfig => ({
  method: 'post',
  path: `${BASE}/send/${s.type}`,
  operationId: `send_${s.type}`,
  tags: ['Envio'],
  summary: s.summary,
  description:
    `${s.description}\n\n` +
    'Idempotente por `external_id`: o mesmo `external_id` com o mesmo conteúdo devolve a primeira resposta ' +
    '(cabeçalho `Idempotent-Replayed: true`); com conteúdo diferente, 409. ' +
    'Contatos inválidos são recusados um a um (`rejected`); se nenhum for válido, 400 `NO_VALID_CONTACTS`. ' +
    'Campos desconhecidos no corpo são ignorados.',
  ...authenticated,
  request: {
    query: sendQuerySchema,
    body: { required: true, content: json(sendBillingRequestSchema, { example: s.example }) },
  },
  responses: {
    200: {
      description: 'Campanha criada (ou, com `dry_run`, a simulação: nada é gravado nem enviado).',
      headers: {
        'Idempotent-Replayed': {
          description: '`true` quando a resposta é a repetição da primeira para este `external_id`.',
          schema: { type: 'string', enum: ['true'] },
        },
      },
      content: {
        'application/json': { schema: z.union([sendBillingResponseSchema, dryRunResponseSchema]) },
      },
    },
    400: errorResponse(
      'Corpo inválido (`errors` lista os campos) ou nenhum contato válido (`errors` lista os contatos recusados).',
      [
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'JSON_TOO_DEEP',
        'NO_VALID_CONTACTS',
        'BATCH_TOO_LARGE',
        'TEMPLATE_NOT_FOUND',
        'NO_ACTIVE_VARIATION',
        'INVALID_CALLBACK_URL',
      ],
    ),
    ...AUTH_RESPONSES,
    409: errorResponse(
      '`external_id` já usado com outro conteúdo, ou a primeira requisição com ele ainda em andamento.',
      ['EXTERNAL_ID_CONFLICT', 'REQUEST_IN_PROGRESS'],
    ),
    413: errorResponse('Corpo maior que o limite.', ['PAYLOAD_TOO_LARGE']),
    415: errorResponse('Content-Type não é JSON.', ['UNSUPPORTED_MEDIA_TYPE']),
  },
});

const notFound = (code: string, what: string): ResponseConfig =>
  errorResponse(`${what} não encontrada (ou de outro tenant).`, [code]);

const buildRegistry = (): OpenAPIRegistry => {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'apiKey',
    in: 'header',
    name: API_KEY_HEADER,
    description: 'Chave `billing_...` mostrada uma única vez na criação.',
  });

  for (const s of SEND_TYPES) registry.registerPath(sendRoute(s));

  registry.registerPath({
    method: 'get',
    path: `${BASE}/queue/{queue_id}/status`,
    operationId: 'queue_status',
    tags: ['Filas'],
    summary: 'Consulta status da fila',
    description: 'Progresso e contadores de uma fila de envio.',
    ...authenticated,
    request: { params: queueIdParamsSchema },
    responses: {
      200: { description: 'Status da fila.', content: json(queueStatusSchema) },
      ...AUTH_RESPONSES,
      404: notFound('QUEUE_NOT_FOUND', 'Fila'),
    },
  });

  registry.registerPath({
    method: 'post',
    path: `${BASE}/queue/{queue_id}/control`,
    operationId: 'queue_control',
    tags: ['Filas'],
    summary: 'Controla fila (pause/resume/cancel)',
    description:
      '`pause` só para fila rodando; `resume` para fila pausada ou com instância fora do ar; `cancel` para fila não finalizada.',
    ...authenticated,
    request: {
      params: queueIdParamsSchema,
      body: { required: true, content: json(queueControlRequestSchema, { example: { action: 'pause' } }) },
    },
    responses: {
      200: { description: 'Ação executada.', content: json(queueControlResponseSchema) },
      400: errorResponse('Ação inválida ou não permitida no status atual.', [
        'INVALID_ACTION',
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'JSON_TOO_DEEP',
        'QUEUE_NOT_RUNNING',
        'QUEUE_NOT_PAUSED',
        'QUEUE_ALREADY_FINISHED',
      ]),
      ...AUTH_RESPONSES,
      404: notFound('QUEUE_NOT_FOUND', 'Fila'),
      415: errorResponse('Content-Type não é JSON.', ['UNSUPPORTED_MEDIA_TYPE']),
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/queues`,
    operationId: 'queue_list',
    tags: ['Filas'],
    summary: 'Lista as filas do tenant',
    description: 'Mais recentes primeiro, paginadas por `cursor`.',
    ...authenticated,
    request: { query: queueListQuerySchema },
    responses: {
      200: { description: 'Uma página de filas.', content: json(queueListResponseSchema) },
      400: errorResponse('Parâmetros inválidos.', ['VALIDATION_FAILED']),
      ...AUTH_RESPONSES,
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/events`,
    operationId: 'billing_events',
    tags: ['Filas'],
    summary: 'Eventos de callback e sua entrega',
    description:
      'Os eventos (sent, delivered, read, failed, replied, queue.completed, delivery_stalled) das campanhas do ' +
      'tenant, mais antigos ' +
      'primeiro, com o status da entrega ao `callback_url`. O corpo de cada callback é o evento sem `delivery`, ' +
      'assinado no cabeçalho `X-Billing-Signature: t=<unix>,v1=<hex HMAC-SHA256(segredo, "<t>.<corpo>")>` ' +
      '(um `v1` por segredo durante uma rotação). Respostas 2xx confirmam a entrega; as demais são tentadas de novo ' +
      'com espera crescente por cerca de 24 h.',
    ...authenticated,
    request: { query: billingEventsQuerySchema },
    responses: {
      200: { description: 'Uma página de eventos.', content: json(billingEventsResponseSchema) },
      400: errorResponse('Parâmetros inválidos.', ['VALIDATION_FAILED']),
      ...AUTH_RESPONSES,
      404: notFound('QUEUE_NOT_FOUND', 'Fila'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/queue/{queue_id}/contacts`,
    operationId: 'queue_contacts',
    tags: ['Filas'],
    summary: 'Resultado por contato de uma fila',
    description:
      'Status, tentativas, último erro e mensagem renderizada de cada contato, paginados por `cursor`.',
    ...authenticated,
    request: { params: queueIdParamsSchema, query: queueContactsQuerySchema },
    responses: {
      200: { description: 'Uma página de contatos.', content: json(queueContactsResponseSchema) },
      400: errorResponse('Parâmetros inválidos.', ['VALIDATION_FAILED']),
      ...AUTH_RESPONSES,
      404: notFound('QUEUE_NOT_FOUND', 'Fila'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/conversations/{telefone}`,
    operationId: 'conversation_history',
    tags: ['Conversas'],
    summary: 'Histórico de conversas de um telefone',
    description:
      'Mensagens de cobrança enviadas e respostas recebidas, agrupadas em conversas (como no guia).',
    ...authenticated,
    request: { params: phoneParamsSchema },
    responses: {
      200: { description: 'As conversas do telefone.', content: json(conversationsResponseSchema) },
      400: errorResponse('Telefone inválido.', ['INVALID_PHONE']),
      ...AUTH_RESPONSES,
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/campaigns/{external_id}`,
    operationId: 'campaign_by_external_id',
    tags: ['Campanhas'],
    summary: 'Consulta campanha pelo external_id',
    description: 'A campanha criada com este `external_id`, com os contatos recusados e o status da fila.',
    ...authenticated,
    request: { params: externalIdParamsSchema },
    responses: {
      200: { description: 'A campanha.', content: json(campaignResponseSchema) },
      ...AUTH_RESPONSES,
      404: notFound('CAMPAIGN_NOT_FOUND', 'Campanha'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/optouts`,
    operationId: 'optout_list',
    tags: ['Opt-out'],
    summary: 'Lista os telefones que não recebem mensagens',
    description:
      'Telefones do tenant que pediram para sair (resposta como SAIR, PARAR, STOP) ou foram cadastrados pela API; mais recentes primeiro.',
    ...authenticated,
    request: { query: optOutListQuerySchema },
    responses: {
      200: { description: 'Uma página da lista.', content: json(optOutListResponseSchema) },
      400: errorResponse('Parâmetros inválidos.', ['VALIDATION_FAILED']),
      ...AUTH_RESPONSES,
    },
  });

  registry.registerPath({
    method: 'post',
    path: `${BASE}/optouts`,
    operationId: 'optout_add',
    tags: ['Opt-out'],
    summary: 'Coloca um telefone na lista de opt-out',
    description:
      'Lotes novos recusam o telefone (`OPTED_OUT`) e contatos já enfileiradas e ainda não enviados ficam `skipped_opt_out`. Idempotente.',
    ...authenticated,
    request: {
      body: {
        required: true,
        content: json(optOutCreateRequestSchema, {
          example: { telefone: '+5511999999999', motivo: 'Pedido por e-mail' },
        }),
      },
    },
    responses: {
      201: { description: 'Incluído.', content: json(optOutCreateResponseSchema) },
      200: { description: 'Já estava na lista (nada mudou).', content: json(optOutCreateResponseSchema) },
      400: errorResponse('Telefone ou corpo inválido.', [
        'INVALID_PHONE',
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'JSON_TOO_DEEP',
      ]),
      ...AUTH_RESPONSES,
      415: errorResponse('Content-Type não é JSON.', ['UNSUPPORTED_MEDIA_TYPE']),
    },
  });

  registry.registerPath({
    method: 'delete',
    path: `${BASE}/optouts/{telefone}`,
    operationId: 'optout_remove',
    tags: ['Opt-out'],
    summary: 'Tira um telefone da lista de opt-out',
    ...authenticated,
    request: { params: phoneParamsSchema },
    responses: {
      200: { description: 'Removido.', content: json(optOutDeleteResponseSchema) },
      400: errorResponse('Telefone inválido.', ['INVALID_PHONE']),
      ...AUTH_RESPONSES,
      404: errorResponse('Telefone não está na lista.', ['OPT_OUT_NOT_FOUND']),
    },
  });

  const webhookOperation = (withEvent: boolean): RouteConfig => ({
    method: 'post',
    path: `${BASE}/webhooks/evolution/{tenant_id}/{instance_id}${withEvent ? '/{event}' : ''}`,
    operationId: withEvent ? 'evolution_webhook_by_event' : 'evolution_webhook',
    tags: ['Webhooks'],
    summary: withEvent ? 'Webhook da Evolution API (modo por eventos)' : 'Webhook da Evolution API',
    description:
      'Recebe os eventos de uma instância WhatsApp nossa (`instance_id`) do tenant `tenant_id`: `messages.update` ' +
      '(entregue, lida, erro), `messages.upsert` (respostas do cliente; SAIR/PARAR entram no opt-out), ' +
      '`connection.update` (queda e volta da instância) e `send.message` (ignorado). Autenticação pelo segredo da ' +
      'instância: cabeçalho estático `x-webhook-secret`, ou `Authorization: Bearer` com um JWT HS256 assinado com ele ' +
      '(opção `jwt_key` da Evolution; o JWT precisa de `exp`, no máximo 1 hora à frente). Configure com ' +
      '`npm run admin -- instance webhook`. Idempotente e tolerante a repetições e fora de ordem; um status nunca ' +
      'volta atrás. Leitor tolerante: só `event`, `instance` e `data` são lidos; `apikey`, `sender`, `date_time` e ' +
      'demais campos podem ser nulos, ausentes ou de outro tipo. Um webhook autenticado que não serve (corpo ' +
      'ilegível, evento ou status desconhecido, mensagem que não enviamos) recebe 200 `ignored`, nunca 4xx (a ' +
      'Evolution não repete um 4xx). 503 pede que a Evolution tente de novo (recibo chegou antes do registro do envio).',
    security: [],
    request: {
      params: withEvent
        ? webhookParamsSchema.required({ event: true })
        : webhookParamsSchema.omit({ event: true }),
      headers: z.object({
        'x-webhook-secret': z.string().optional().openapi({ description: 'O segredo da instância.' }),
        authorization: z
          .string()
          .optional()
          .openapi({ description: '`Bearer <JWT HS256 assinado com o segredo>`.' }),
      }),
      body: { required: true, content: json(evolutionWebhookSchema) },
    },
    responses: {
      200: { description: 'Evento tratado (ou ignorado).', content: json(webhookAckSchema) },
      401: errorResponse('Segredo ou token ausente ou inválido, ou instância desconhecida; nada muda.', [
        'WEBHOOK_UNAUTHORIZED',
      ]),
      503: errorResponse('Ainda não aplicável; a Evolution tenta de novo.', ['WEBHOOK_RETRY_LATER']),
    },
  });
  registry.registerPath(webhookOperation(false));
  registry.registerPath(webhookOperation(true));

  registry.registerPath({
    method: 'get',
    path: '/health',
    operationId: 'health',
    tags: ['Operação'],
    summary: 'Saúde do serviço',
    description: 'Vivo e com acesso ao banco; 503 quando o banco não responde.',
    ...open,
    responses: {
      200: { description: 'Tudo certo.', content: json(healthResponseSchema) },
      503: { description: 'Banco ou fila de trabalho inacessível.', content: json(healthResponseSchema) },
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tags: ['Operação'],
    summary: 'Métricas Prometheus (modo local)',
    description:
      'Séries billing_* no formato de exposição de texto do Prometheus. Só no modo local: na AWS as métricas ' +
      'vão para o CloudWatch (EMF) e esta rota responde 404.',
    ...open,
    responses: {
      200: {
        description: 'Exposição de texto do Prometheus (version=0.0.4).',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
      },
      404: errorResponse('Sem métricas Prometheus neste ambiente.', ['ROUTE_NOT_FOUND']),
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/openapi.json`,
    operationId: 'openapi_document',
    tags: ['Documentação'],
    summary: 'Este documento OpenAPI 3.1',
    ...open,
    responses: {
      200: {
        description: 'O documento OpenAPI.',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/docs`,
    operationId: 'docs_page',
    tags: ['Documentação'],
    summary: 'Documentação navegável (Swagger UI)',
    ...open,
    responses: {
      200: { description: 'Página HTML.', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  });

  registry.registerPath({
    method: 'get',
    path: `${BASE}/docs/{asset}`,
    operationId: 'docs_asset',
    tags: ['Documentação'],
    summary: 'Arquivos estáticos da página de documentação',
    ...open,
    request: { params: z.object({ asset: z.string().openapi({ example: 'swagger-ui.css' }) }) },
    responses: {
      200: {
        description: 'JavaScript ou CSS.',
        content: { 'text/javascript': { schema: { type: 'string' } } },
      },
      404: errorResponse('Arquivo desconhecido.', ['ROUTE_NOT_FOUND']),
    },
  });

  return registry;
};

/** The generator's document type (openapi3-ts's, which is not our direct dependency). */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

let cached: OpenApiDocument | undefined;

const baseDocument = (): OpenApiDocument => {
  cached ??= new OpenApiGeneratorV31(buildRegistry().definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Billing API',
      version: '1.0.0',
      description:
        'Lembretes de cobrança por WhatsApp para ERPs: valida o lote, renderiza os templates e envia no ritmo seguro, ' +
        'respeitando o horário comercial. Autentique com o cabeçalho `X-Billing-API-Key`. ' +
        'Erros trazem `success: false`, um `code` estável em inglês e uma `message` em português.',
    },
    tags: [
      { name: 'Envio', description: 'Criação de campanhas.' },
      { name: 'Filas', description: 'Acompanhamento e controle dos envios.' },
      { name: 'Campanhas', description: 'Consulta por external_id.' },
      { name: 'Opt-out', description: 'Telefones que não recebem mensagens.' },
      { name: 'Webhooks', description: 'Eventos do gateway WhatsApp (Evolution API).' },
      { name: 'Operação' },
      { name: 'Documentação' },
    ],
  });
  return cached;
};

/** The OpenAPI 3.1 document; `serverUrl` (e.g. from the request's host) becomes its only server. */
export const buildOpenApiDocument = (options: { serverUrl?: string } = {}): OpenApiDocument => {
  // A copy: callers may decorate it without changing the next caller's document.
  const doc = structuredClone(baseDocument());
  if (options.serverUrl) doc.servers = [{ url: options.serverUrl }];
  return doc;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** Every operation the document describes, as `{ method: 'GET', path: '/x/{id}' }` (no trailing slash). */
export const documentedOperations = (): Array<{ method: string; path: string }> =>
  Object.entries(baseDocument().paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path })),
  );

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;
const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The API's base URL as the caller reached it (`Host`, `X-Forwarded-Proto`), for the document's
 * `servers`; undefined when the host header is absent or not a plain host (never echo junk).
 */
export const serverUrlFromHeaders = (headers: Record<string, string>): string | undefined => {
  const host = headers.host?.trim();
  if (!host || !HOST.test(host)) return undefined;
  const forwarded = headers['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase();
  const proto =
    forwarded === 'http' || forwarded === 'https' ? forwarded : LOOPBACK_HOST.test(host) ? 'http' : 'https';
  return `${proto}://${host}`;
};
