/**
 * The entities of the billing domain (design section 4), as plain data.
 * Field names are camelCase here; the HTTP layer maps them to the guide's snake_case names.
 * Instants are ISO-8601 UTC strings; calendar dates are `yyyy-mm-dd`; times of day are `HH:mm`.
 */

export const TEMPLATE_TYPES = ['overdue', 'upcoming', 'notification'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

export const QUEUE_STATUSES = [
  'pending',
  'scheduled',
  'running',
  'paused',
  'instance_down',
  'completed',
  'cancelled',
  'failed',
] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

/** `unknown`: the gateway may or may not have sent it (timeout after the request left); never resent blindly. */
export const CONTACT_STATUSES = [
  'pending',
  'sending',
  'sent',
  'delivered',
  'read',
  'failed',
  'retry',
  'cancelled',
  'skipped_opt_out',
  'unknown',
] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const ROTATION_STRATEGIES = ['random', 'sequential', 'weighted'] as const;
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];

export const AMBIGUOUS_SEND_POLICIES = ['mark_unknown', 'retry'] as const;
export type AmbiguousSendPolicy = (typeof AMBIGUOUS_SEND_POLICIES)[number];

export interface BillingConfig {
  apiEnabled: boolean;
  /** At most 1000 (the API's hard cap). */
  maxBatchSize: number;
  /** Messages accepted per tenant-local day; 0 = no limit. */
  dailyMessageLimit: number;
  apiRateLimitPerHour: number;
  messagesPerMinute: number;
  minIntervalSeconds: number;
  /** Random spread of each interval, uniform in ±jitterSeconds, never below the minimum interval. */
  jitterSeconds: number;
  maxRetries: number;
  /** IANA zone, default America/Sao_Paulo. */
  timezone: string;
  /** Fixed lines cannot receive WhatsApp in practice; some tenants still want them tried. */
  allowLandlines: boolean;
  ambiguousSendPolicy: AmbiguousSendPolicy;
  retentionDays: number;
  /** Development only: callbacks to http:// and private addresses. */
  allowInsecureCallbacks: boolean;
}

export interface Tenant {
  id: string;
  name: string;
  config: BillingConfig;
  createdAt: string;
  updatedAt: string;
}

/** One opening window of a weekday, `start` < `end`, both `HH:mm` in the tenant's timezone. */
export interface TimeWindow {
  start: string;
  end: string;
}

/** Weekday 0 = Sunday .. 6 = Saturday (as JavaScript's getDay). */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface BusinessCalendar {
  timezone: string;
  /** Windows per weekday; a weekday absent or empty is closed. */
  weekly: Partial<Record<Weekday, TimeWindow[]>>;
  /** Close on Brazil's national public holidays. */
  nationalHolidays: boolean;
  /** Also close on the holidays of this state (date-holidays code such as `SP`). */
  region?: string;
  /** Extra closed dates, `yyyy-mm-dd` in the tenant's timezone. */
  closedDates: string[];
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  /** Hex SHA-256 of the full key; the key itself is shown once and never stored. */
  keyHash: string;
  /** First characters of the key, to recognise it in listings. */
  keyPrefix: string;
  allowedTemplateTypes: TemplateType[];
  /** IPs or CIDRs (v4 or v6); empty = any. */
  allowedIps: string[];
  expiresAt: string | null;
  isActive: boolean;
  usageCount: number;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  /** HMAC secrets for ERP callbacks; the first signs, all verify (two during a rotation). */
  signingSecrets: string[];
  createdAt: string;
}

export interface TemplateVariation {
  id: string;
  messageTemplate: string;
  isActive: boolean;
  timesUsed: number;
}

export interface BillingTemplate {
  tenantId: string;
  type: TemplateType;
  name: string;
  isActive: boolean;
  requiredVariables: string[];
  rotationStrategy: RotationStrategy;
  variations: TemplateVariation[];
  updatedAt: string;
}

export type ConnectionState = 'open' | 'connecting' | 'close' | 'unknown';

export interface WhatsAppInstance {
  id: string;
  tenantId: string;
  /** The instance name in Evolution's routes. */
  instanceName: string;
  baseUrl: string;
  /**
   * Where the Evolution apikey lives, never the key itself in logs:
   * `env:NAME` (an environment variable), `ssm:/path` (a parameter), or `plain:value` (local development).
   */
  credentialRef: string;
  /** Shared secret Evolution sends back in a header on webhooks. */
  webhookSecret: string;
  isActive: boolean;
  connectionState: ConnectionState;
  createdAt: string;
}
