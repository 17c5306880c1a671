/**
 * The tenant's side of the domain (design section 4), as plain data: its settings, business
 * calendar, API keys, templates and WhatsApp instances. The billing flow's entities (campaigns,
 * queues, contacts, messages, events) are in types.ts. Same conventions: camelCase fields,
 * ISO-8601 UTC instants, `yyyy-mm-dd` dates, `HH:mm` times of day.
 */
import type { TemplateType } from './types.ts';

/**
 * What an API key may do (`apiKey` operations declare theirs, lib/http/routes/*.ts): `send` accepts
 * batches, `read` reads queues, contacts, events, campaigns, conversations and opt-outs, `control`
 * pauses, resumes and cancels queues and edits opt-outs. A key without scopes has all three.
 */
export const KEY_SCOPES = ['send', 'read', 'control'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

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
  /** Requests per key per hour that send or control (the guide's limit). */
  apiRateLimitPerHour: number;
  /** Requests per key per hour that only read (status polls, listings, the dashboard): a budget of their own. */
  apiReadRateLimitPerHour: number;
  messagesPerMinute: number;
  minIntervalSeconds: number;
  /** Random spread of each interval, uniform in ±jitterSeconds, never below the minimum interval. */
  jitterSeconds: number;
  maxRetries: number;
  /** First wait before retrying a transient failure; doubles per attempt, capped at 15 minutes. */
  retryBackoffSeconds: number;
  /** IANA zone, default America/Sao_Paulo. */
  timezone: string;
  /** Fixed lines cannot receive WhatsApp in practice; some tenants still want them tried. */
  allowLandlines: boolean;
  ambiguousSendPolicy: AmbiguousSendPolicy;
  retentionDays: number;
  /** Development only: callbacks to http:// and private addresses. */
  allowInsecureCallbacks: boolean;
  /**
   * A sent message with no SERVER_ACK, DELIVERY_ACK or READ this long after the send is stalled
   * (counted in `contacts_stalled`, event `delivery_stalled`); a receipt arriving later still counts.
   */
  deliveryTimeoutMinutes: number;
  /**
   * The instance a batch that names none is sent through (`instance set-default`); null: the
   * tenant's oldest active instance.
   */
  defaultInstanceId: string | null;
  /**
   * The creditor's name, the template variable `{{empresa}}` of every contact: a collection message
   * names its creditor (CDC art. 42-A). Null: not configured (the ERP may send `empresa`).
   */
  creditorName: string | null;
  /** The creditor's CNPJ (or CPF), formatted; the template variable `{{cnpj}}`. Null: not configured. */
  creditorDocument: string | null;
  /** Refuse a template that breaks a collection rule instead of warning (collection-lint.ts). */
  strictTemplateLint: boolean;
  /**
   * Per-debtor frequency cap (frequency-cap.ts): reminders of `frequencyCapTypes` one phone may get
   * on one tenant-local day; 0 = no daily cap.
   */
  maxRemindersPerDebtorPerDay: number;
  /** Per-debtor frequency cap: hours that must pass between two reminders to one phone; 0 = none. */
  minHoursBetweenReminders: number;
  /** The template types the frequency cap counts and holds back (default overdue and upcoming). */
  frequencyCapTypes: TemplateType[];
}

export interface Tenant {
  id: string;
  name: string;
  config: BillingConfig;
  createdAt: string;
  updatedAt: string;
  /**
   * The key of the salted digests that stand for an erased debtor's phone (LGPD erasure keeps an
   * opt-out as `lgpd:<HMAC-SHA256(salt, phone)>`, lib/domain/debtor-erasure.ts). Set once, at the
   * tenant's first erasure; absent until then. Never shown.
   */
  erasureSalt?: string;
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
  /** What the key may do; absent (keys made before scopes existed) = every scope. */
  scopes?: KeyScope[];
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
  /**
   * The warm-up ramp of a new number (warmup.ts). Absent on instances stored before warm-up
   * existed: those are taken for old numbers and have no ramp.
   */
  warmup?: InstanceWarmup;
}

/**
 * A new WhatsApp number sends a growing number of messages per day (WhatsApp bans numbers that
 * send too much too soon): `firstDayLimit` on its first day, `dailyGrowth` times more each day
 * after, until the tenant's pace is the limit anyway.
 */
export interface InstanceWarmup {
  enabled: boolean;
  /** Day 1 of the ramp, `yyyy-mm-dd` in the tenant's timezone (the day the instance was added). */
  startDate: string;
  /** Messages allowed on day 1 (default 30). */
  firstDayLimit: number;
  /** Each day allows this many times the day before (default 2: doubling). */
  dailyGrowth: number;
}
