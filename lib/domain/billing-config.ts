import { z } from 'zod';
import { DomainError } from './errors.ts';
import { parseTaxId } from './tax-id.ts';
import { AMBIGUOUS_SEND_POLICIES, type BillingConfig } from './tenant-types.ts';
import { TEMPLATE_TYPES } from './types.ts';

/** The API never takes more than this many contacts in one request, whatever a tenant sets. */
export const MAX_BATCH_SIZE_CAP = 1000;

const isIanaZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** Every field of a tenant's billing config with its bounds; also validates partial updates. */
export const billingConfigSchema = z.object({
  apiEnabled: z.boolean(),
  maxBatchSize: z.number().int().min(1).max(MAX_BATCH_SIZE_CAP),
  dailyMessageLimit: z.number().int().min(0),
  apiRateLimitPerHour: z.number().int().min(1),
  apiReadRateLimitPerHour: z.number().int().min(1),
  messagesPerMinute: z.number().positive().max(6000),
  minIntervalSeconds: z.number().min(0).max(3600),
  jitterSeconds: z.number().min(0).max(600),
  maxRetries: z.number().int().min(0).max(20),
  retryBackoffSeconds: z.number().min(0).max(3600),
  timezone: z.string().refine(isIanaZone, 'fuso horário IANA desconhecido'),
  allowLandlines: z.boolean(),
  ambiguousSendPolicy: z.enum(AMBIGUOUS_SEND_POLICIES),
  retentionDays: z.number().int().min(1).max(3650),
  allowInsecureCallbacks: z.boolean(),
  deliveryTimeoutMinutes: z.number().int().min(1).max(1440),
  defaultInstanceId: z.string().min(1).max(100).nullable(),
  creditorName: z.string().trim().min(2).max(200).nullable(),
  // Stored formatted, so `{{cnpj}}` prints `11.222.333/0001-81` however it was typed.
  creditorDocument: z
    .string()
    .transform((text, ctx) => {
      const taxId = parseTaxId(text);
      if (taxId) return taxId.formatted;
      ctx.addIssue({ code: 'custom', message: 'CNPJ ou CPF inválido (dígitos verificadores não conferem)' });
      return z.NEVER;
    })
    .nullable(),
  strictTemplateLint: z.boolean(),
  maxRemindersPerDebtorPerDay: z.number().int().min(0).max(100),
  // A week at most: the cap reads the phone's reminders that far back before each send.
  minHoursBetweenReminders: z.number().min(0).max(168),
  frequencyCapTypes: z.array(z.enum(TEMPLATE_TYPES)).transform((types) => [...new Set(types)]),
}) satisfies z.ZodType<BillingConfig>;

/**
 * Defaults for a new tenant: the guide's pace (20 per minute, 3 s apart) and a conservative
 * jitter, so a fresh WhatsApp number is not pushed into a ban.
 */
export const DEFAULT_BILLING_CONFIG: BillingConfig = {
  apiEnabled: true,
  maxBatchSize: MAX_BATCH_SIZE_CAP,
  dailyMessageLimit: 0,
  apiRateLimitPerHour: 1000,
  apiReadRateLimitPerHour: 20_000,
  messagesPerMinute: 20,
  minIntervalSeconds: 3,
  jitterSeconds: 1,
  maxRetries: 3,
  retryBackoffSeconds: 30,
  timezone: 'America/Sao_Paulo',
  allowLandlines: false,
  ambiguousSendPolicy: 'mark_unknown',
  retentionDays: 90,
  allowInsecureCallbacks: false,
  deliveryTimeoutMinutes: 15,
  defaultInstanceId: null,
  creditorName: null,
  creditorDocument: null,
  strictTemplateLint: false,
  // One reminder per debtor per day, at least 20 h apart: two batches posted the same morning with
  // the same debtor send one reminder that day, and the next one the following day.
  maxRemindersPerDebtorPerDay: 1,
  minHoursBetweenReminders: 20,
  frequencyCapTypes: ['overdue', 'upcoming'],
};

/** Validates a partial config change; throws INVALID_CONFIG naming every bad field. */
export const parseBillingConfigPatch = (patch: unknown): Partial<BillingConfig> => {
  const parsed = billingConfigSchema.partial().strict().safeParse(patch);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new DomainError('INVALID_CONFIG', { reason });
  }
  return parsed.data;
};
