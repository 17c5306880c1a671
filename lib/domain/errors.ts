/**
 * One error type for every expected failure, with a stable English `code` (what programs match on)
 * and a Portuguese `message` (what people read), as the guide's API answers.
 * `ERROR_TABLE` is the single place that maps a code to its HTTP status and message.
 */

type Params = Record<string, string | number>;

interface ErrorSpec {
  status: number;
  message: (p: Params) => string;
}

const spec = (status: number, message: string | ((p: Params) => string)): ErrorSpec => ({
  status,
  message: typeof message === 'string' ? () => message : message,
});

export const ERROR_TABLE = {
  // Contact data (reported per contact, or 400 for the whole request)
  INVALID_PHONE: spec(400, (p) => `Telefone inválido${p.value ? `: ${p.value}` : ''}`),
  PHONE_NOT_MOBILE: spec(400, 'Telefone fixo não recebe WhatsApp; informe um celular'),
  PHONE_MISSING_AREA_CODE: spec(
    400,
    (p) => `Telefone sem DDD${p.value ? `: ${p.value}` : ''}. Informe com o DDD, como (11) 99999-9999`,
  ),
  INVALID_DATE: spec(
    400,
    (p) => `Data de vencimento inválida${p.value ? `: ${p.value}` : ''}. Use dd/mm/aaaa ou aaaa-mm-dd`,
  ),
  DUE_DATE_REQUIRED: spec(400, 'data_vencimento obrigatória para este tipo de cobrança'),
  DUE_DATE_NOT_PAST: spec(400, 'Cobrança atrasada com vencimento que ainda não passou'),
  DUE_DATE_PAST: spec(400, 'Cobrança a vencer com vencimento que já passou'),
  INVALID_MONEY: spec(400, (p) => `Valor inválido${p.value ? `: ${p.value}` : ''}`),
  MISSING_VARIABLE: spec(400, (p) => `Variável obrigatória ausente: ${p.name}`),
  DUPLICATE_CONTACT: spec(400, 'Contato duplicado no lote (mesmo telefone e fatura)'),
  OPTED_OUT: spec(400, 'Este telefone pediu para não receber mensagens'),

  // Templates, calendars and configuration
  TEMPLATE_INVALID: spec(400, (p) => `Template inválido: ${p.reason}`),
  NO_ACTIVE_VARIATION: spec(400, 'Template não tem variações ativas'),
  TEMPLATE_LINT_FAILED: spec(
    400,
    (p) => `Template recusado pelas regras de cobrança (${p.count} problema(s)): ${p.reason}`,
  ),
  NO_BUSINESS_HOURS: spec(400, 'Nenhum horário comercial configurado'),
  INVALID_BUSINESS_HOURS: spec(400, (p) => `Horário comercial inválido: ${p.reason}`),
  OVERNIGHT_WINDOW: spec(
    400,
    (p) =>
      `Janela ${p.start}-${p.end} atravessa a meia-noite; cadastre duas janelas (${p.start}-24:00 e 00:00-${p.end})`,
  ),
  INVALID_TIMEZONE: spec(400, (p) => `Fuso horário inválido: ${p.value}`),
  INVALID_CONFIG: spec(400, (p) => `Configuração inválida: ${p.reason}`),
  INVALID_TRANSITION: spec(400, (p) => `Transição de status inválida: ${p.from} -> ${p.to}`),

  // Authentication and limits
  API_KEY_MISSING: spec(401, 'API Key não informada (cabeçalho X-Billing-API-Key)'),
  API_KEY_INVALID: spec(401, 'API Key inválida'),
  API_KEY_INACTIVE: spec(401, 'API Key inativa'),
  API_KEY_EXPIRED: spec(401, 'API Key expirada'),
  IP_NOT_ALLOWED: spec(403, 'IP não autorizado para esta API Key'),
  TEMPLATE_TYPE_NOT_ALLOWED: spec(403, 'API Key não autorizada para este tipo de template'),
  KEY_SCOPE_NOT_ALLOWED: spec(403, 'API Key não autorizada para esta operação'),
  RATE_LIMITED: spec(429, 'Limite de requisições por hora excedido'),
  API_DISABLED: spec(403, 'API de Billing não habilitada para este tenant'),
  BATCH_TOO_LARGE: spec(400, (p) => `Limite de ${p.max} mensagens excedido (${p.count} enviadas)`),
  DAILY_LIMIT_EXCEEDED: spec(429, 'Limite diário de mensagens atingido'),

  // Requests
  VALIDATION_FAILED: spec(400, 'Dados inválidos'),
  MALFORMED_JSON: spec(400, 'JSON malformado no corpo da requisição'),
  JSON_TOO_DEEP: spec(400, (p) => `JSON aninhado demais no corpo da requisição (máximo ${p.max} níveis)`),
  UNSUPPORTED_MEDIA_TYPE: spec(415, 'Content-Type deve ser application/json'),
  PAYLOAD_TOO_LARGE: spec(413, 'Corpo da requisição excede o tamanho máximo'),
  NO_VALID_CONTACTS: spec(400, 'Nenhum contato válido no lote'),
  TEMPLATE_NOT_FOUND: spec(400, (p) => `Template '${p.type}' não encontrado`),
  REQUEST_IN_PROGRESS: spec(409, 'Requisição com este external_id ainda em processamento; tente novamente'),
  EXTERNAL_ID_CONFLICT: spec(409, (p) => `external_id '${p.externalId}' já existe com outro conteúdo`),
  INVALID_CALLBACK_URL: spec(400, (p) => `callback_url não permitida: ${p.reason}`),
  QUEUE_NOT_FOUND: spec(404, 'Fila não encontrada'),
  CONTACT_NOT_FOUND: spec(404, 'Contato não encontrado nesta fila'),
  INVALID_PERIOD: spec(400, (p) => `Período inválido: ${p.reason}`),
  CAMPAIGN_NOT_FOUND: spec(404, 'Campanha não encontrada'),
  ROUTE_NOT_FOUND: spec(404, 'Rota não encontrada'),
  DASHBOARD_NOT_BUILT: spec(404, 'Painel não compilado neste servidor: rode npm run build:dashboard'),
  METHOD_NOT_ALLOWED: spec(405, 'Método não permitido'),
  INVALID_ACTION: spec(400, 'Ação inválida. Use: pause, resume ou cancel'),
  QUEUE_NOT_RUNNING: spec(400, 'Fila não está rodando'),
  QUEUE_NOT_PAUSED: spec(400, 'Fila não está pausada'),
  QUEUE_ALREADY_PAUSED: spec(400, 'Fila já está pausada'),
  QUEUE_ALREADY_FINISHED: spec(400, 'Fila já finalizada'),

  // Administration
  TENANT_NOT_FOUND: spec(404, (p) => `Tenant não encontrado${p.id ? `: ${p.id}` : ''}`),
  TENANT_EXISTS: spec(409, (p) => `Tenant já existe: ${p.id}`),
  API_KEY_EXISTS: spec(409, 'API Key já existe'),
  API_KEY_NOT_FOUND: spec(404, 'API Key não encontrada'),
  INSTANCE_NOT_FOUND: spec(404, 'Instância não encontrada'),
  UNKNOWN_INSTANCE: spec(400, (p) => `Instância não encontrada ou inativa: ${p.value}`),
  OPT_OUT_NOT_FOUND: spec(404, 'Telefone não está na lista de opt-out'),
  WEBHOOK_UNAUTHORIZED: spec(401, 'Webhook não autenticado (segredo ou token inválido)'),
  WEBHOOK_RETRY_LATER: spec(503, 'Evento ainda não pode ser aplicado; tente novamente'),
  STORE_UNAVAILABLE: spec(
    503,
    'Serviço temporariamente indisponível (banco de dados); tente novamente em instantes com o mesmo external_id',
  ),

  INTERNAL_ERROR: spec(500, 'Erro interno'),
} satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** An expected failure: bad input, a refused transition, a limit. Bugs are plain `Error`s. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Safe to show to the caller (all 4xx); a 5xx keeps its detail in the logs. */
  readonly expose: boolean;
  readonly params: Params;
  readonly details: unknown;

  constructor(code: ErrorCode, params: Params = {}, details?: unknown) {
    const entry = ERROR_TABLE[code];
    super(entry.message(params));
    this.name = 'DomainError';
    this.code = code;
    this.status = entry.status;
    this.expose = entry.status < 500;
    this.params = params;
    this.details = details;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** The Portuguese message for a code, for per-contact rejections that are values, not thrown errors. */
export const messageFor = (code: ErrorCode, params: Params = {}): string => ERROR_TABLE[code].message(params);

/** A result that is either a value or an expected failure (style: expected failures are values). */
export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = (code: ErrorCode, params: Params = {}): Result<never> => ({
  ok: false,
  error: new DomainError(code, params),
});
