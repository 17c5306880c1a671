import { checkCallbackUrl as checkCallbackUrlSyntax } from '../domain/callback-url.ts';
import type { AcceptedContact, ContactInput } from '../domain/contact-intake.ts';
import { creditorVariables } from '../domain/creditor.ts';
import { localDateIn } from '../domain/due-date.ts';
import { DomainError } from '../domain/errors.ts';
import { type DailySendCap, planSending } from '../domain/eta.ts';
import { isCapped, lastHeldBackReminder } from '../domain/frequency-cap.ts';
import { chooseInstance } from '../domain/instance-choice.ts';
import { baseIntervalMs } from '../domain/pacing.ts';
import { planVariations } from '../domain/rotation.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import { renderTemplate } from '../domain/template.ts';
import type {
  ApiKey,
  BillingTemplate,
  BusinessCalendar,
  Tenant,
  WhatsAppInstance,
} from '../domain/tenant-types.ts';
import type { CallbackEvent, Campaign, TemplateType } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { CallbackUrlGuard } from '../ports/callback-url-guard.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, CounterStore, FeedbackStore, TenantStore } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { warmupSendCapOf } from './instance-warmup.ts';

/*
 * What accepting a batch (create-campaign.ts) and its dry run (dry-run-campaign.ts) share: their
 * input and ports, the tenant's checks, the template, the per-contact intake context, when sending
 * starts and how long it takes, and the rendering of each accepted contact.
 */

export interface CreateCampaignInput {
  tenant: Tenant;
  apiKey: ApiKey;
  templateType: TemplateType;
  externalId: string;
  contacts: readonly ContactInput[];
  callbackUrl: string | null;
  callbackEvents: CallbackEvent[];
  metadata: Record<string, unknown>;
  /** The instance the batch names (`instance`); null: the tenant's default, else its oldest active. */
  instanceId?: string | null;
  /** The body as received (after validation), hashed to tell a replay from a conflict. */
  canonicalBody: unknown;
}

/** The ports the accept path uses. */
export interface CreateCampaignDeps {
  store: TenantStore & CampaignStore & CounterStore & FeedbackStore;
  clock: Clock;
  /** Uniform in [0, 1): the campaign's variation plan. */
  random: () => number;
  logger: Logger;
  workQueue: WorkQueue;
  metrics: Metrics;
  callbackUrlGuard: CallbackUrlGuard;
}

type Deps = CreateCampaignDeps;

/**
 * Refuses a callback_url that may not receive callbacks (SSRF: syntax, then every DNS address).
 * A tenant with insecure callbacks (local development) gets the syntax check only: any address is
 * allowed there, and a name that does not resolve yet (a dev box, the guide's example) is no reason to refuse.
 */
export const checkCallbackUrl = async (deps: Deps, input: CreateCampaignInput): Promise<void> => {
  if (!input.callbackUrl) return;
  const allowInsecure = input.tenant.config.allowInsecureCallbacks;
  const checked = allowInsecure
    ? checkCallbackUrlSyntax(input.callbackUrl, { allowInsecure })
    : await deps.callbackUrlGuard.check(input.callbackUrl, { allowInsecure });
  if (!checked.ok) throw checked.error;
};

export const loadTemplate = async (
  deps: Deps,
  tenant: Tenant,
  type: TemplateType,
): Promise<BillingTemplate> => {
  const template = await deps.store.getTemplate(tenant.id, type);
  if (!template?.isActive || !template.variations.some((v) => v.isActive)) {
    throw new DomainError('TEMPLATE_NOT_FOUND', { type });
  }
  return template;
};

/** What a batch's sending plan reads: started with the other independent reads of the request. */
export interface PlanLookups {
  /** The tenant's calendar; undefined for notifications, which go 24/7. */
  calendar: Promise<BusinessCalendar | undefined>;
  /** The daily caps of the instance the batch will go through, while that number warms up. */
  sendCap: Promise<DailySendCap | undefined>;
}

/**
 * Starts the plan's reads. The instance is the one the batch names, else the tenant's default, else
 * its oldest active one, as its queue gets: while it warms up, a batch its ramp spreads over days is
 * not announced as an hour. Each lookup is settled at once, so an early refusal leaves no
 * unobserved rejection.
 */
export const lookUpPlanInputs = (
  deps: Deps,
  tenant: Tenant,
  type: TemplateType,
  instancesLookup: Promise<WhatsAppInstance[]>,
  instanceId: string | null | undefined,
): PlanLookups => {
  const calendar = type === 'notification' ? Promise.resolve(undefined) : deps.store.getCalendar(tenant.id);
  const sendCap = instancesLookup.then((instances) => {
    const instance = chooseInstance(instances, [instanceId, tenant.config.defaultInstanceId]);
    return instance ? warmupSendCapOf(deps, tenant, instance, deps.clock.now()) : undefined;
  });
  void calendar.catch(() => undefined);
  void sendCap.catch(() => undefined);
  return { calendar, sendCap };
};

/**
 * When sending starts and how long it takes, simulating the tenant's calendar (closed nights,
 * weekends and holidays count) for overdue and upcoming (notifications go 24/7), the daily caps
 * of a number warming up, and the per-debtor frequency cap on the batch's own repeated phones (a
 * debtor named twice gets the second reminder the next day).
 */
export const planFor = async (
  tenant: Tenant,
  type: TemplateType,
  lookups: PlanLookups,
  now: Date,
  phones: readonly string[],
): Promise<{ start: Date; minutes: number }> => {
  const calendar = type === 'notification' ? undefined : await lookups.calendar;
  if (type !== 'notification' && !calendar) throw new DomainError('NO_BUSINESS_HOURS');
  const interval = baseIntervalMs(tenant.config);
  const plan = planSending(calendar, now, Math.max(1, phones.length), interval, await lookups.sendCap);
  const heldBack = isCapped(tenant.config, type)
    ? lastHeldBackReminder({ caps: tenant.config, calendar, phones, start: plan.start })
    : undefined;
  const end = heldBack && heldBack > plan.end ? heldBack : plan.end;
  // How long sending takes once it starts (closed hours in between count), at least a minute;
  // when it starts is `scheduled_start`, so a batch posted at night does not read as 3601 minutes.
  return {
    start: plan.start,
    minutes: Math.max(1, Math.ceil((end.getTime() - plan.start.getTime()) / 60_000)),
  };
};

/** Renders every accepted contact with the variations the plan picks (deterministic for a seed). */
export const render = (
  template: BillingTemplate,
  accepted: readonly AcceptedContact[],
  plan: Campaign['plan'],
) => {
  const variations = template.variations.map((v) => ({ ...v, timesUsed: plan.uses[v.id] ?? 0 }));
  const { picks, uses } = planVariations(
    template.rotationStrategy,
    variations,
    accepted.length,
    seededRandom(plan.seed),
  );
  const rendered = accepted.map((contact, i) => {
    // biome-ignore lint/style/noNonNullAssertion: planVariations returns one pick per contact
    const variation = picks[i]!;
    return {
      contact,
      variationId: variation.id,
      message: renderTemplate(variation.messageTemplate, contact.variables),
    };
  });
  return { rendered, uses };
};

export const checkTenant = (tenant: Tenant, count: number): void => {
  if (!tenant.config.apiEnabled) throw new DomainError('API_DISABLED');
  if (count > tenant.config.maxBatchSize) {
    throw new DomainError('BATCH_TOO_LARGE', { max: tenant.config.maxBatchSize, count });
  }
};

export const intakeContext = (tenant: Tenant, template: BillingTemplate, now: Date) => ({
  today: localDateIn(tenant.config.timezone, now),
  allowLandlines: tenant.config.allowLandlines,
  requiredVariables: template.requiredVariables,
  templateType: template.type,
  fixedVariables: creditorVariables(tenant.config),
});

/** A batch that names its instance names one of the tenant's, and an active one. */
export const checkNamedInstance = async (deps: Deps, tenantId: string, instanceId: string): Promise<void> => {
  const instance = await deps.store.getInstance(tenantId, instanceId);
  if (!instance?.isActive) throw new DomainError('UNKNOWN_INSTANCE', { value: instanceId });
};
