import { createHash, randomUUID } from 'node:crypto';
import { newBillingContact, newBillingQueue } from '../domain/billing-queue.ts';
import { type AcceptedContact, type IntakeResult, takeInContacts } from '../domain/contact-intake.ts';
import { localDateIn } from '../domain/due-date.ts';
import { DomainError } from '../domain/errors.ts';
import { chooseInstance } from '../domain/instance-choice.ts';
import type { BillingTemplate, Tenant, WhatsAppInstance } from '../domain/tenant-types.ts';
import type { BillingContact, Campaign, TemplateType } from '../domain/types.ts';
import { API_TIMEOUT_SECONDS } from './api-timeout.ts';
import {
  type CreateCampaignDeps,
  type CreateCampaignInput,
  checkCallbackUrl,
  checkNamedInstance,
  checkTenant,
  intakeContext,
  loadTemplate,
  lookUpPlanInputs,
  planFor,
  render,
} from './campaign-intake.ts';
import { publishOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { optedOutPhonesOf } from './opt-outs.ts';
import { workItemOf } from './queue-work.ts';

type Deps = CreateCampaignDeps;

export interface CampaignAnswer {
  campaign: Campaign;
  /** True when this is the stored answer of an earlier identical request. */
  replayed: boolean;
}

/**
 * How long the request that holds a campaign has to finish it before a retry may take over: the
 * API function's timeout plus a margin, so a retry never takes over from a request that may still
 * run. The margin covers a write already on the wire when the function is stopped and clock skew
 * between two functions. (Locally there is no timeout: the owner token, and contacts written
 * only before the campaign exists, keep a slower request harmless there too.)
 */
export const CAMPAIGN_LEASE_MS = API_TIMEOUT_SECONDS * 1000 + 15_000;
/** How long a concurrent duplicate waits for the first request to finish: it answers 409 before its own timeout. */
const DUPLICATE_WAIT_MS = API_TIMEOUT_SECONDS * 1000 - 4_000;
const DUPLICATE_POLL_MS = 100;

const sortKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortKeys)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
        )
      : value;

export const requestHash = (templateType: TemplateType, body: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(sortKeys({ templateType, body })))
    .digest('hex');

/** Tenant-local day counter; lives two days so a late read in the same day still counts. */
const reserveDailyQuota = async (deps: Deps, tenant: Tenant, count: number, now: Date): Promise<boolean> => {
  const limit = tenant.config.dailyMessageLimit;
  if (limit === 0) return true;
  const day = localDateIn(tenant.config.timezone, now);
  const reserved = await deps.store.reserveDailyQuota(
    tenant.id,
    day,
    count,
    limit,
    new Date(now.getTime() + 2 * 86_400_000),
  );
  return reserved.ok;
};

/**
 * The Accept path (design section 5), after authentication and body validation:
 * 1. tenant checks (API enabled, batch size, active template);
 * 2. an existing campaign with this external_id: same body -> replay, other body -> 409;
 * 3. per-contact rules; none accepted -> 400 with the list, nothing stored;
 * 4. render and write the contacts under a new queue id, then the conditional put of the
 *    campaign (`creating`, held by this request's owner token): the one idempotency point under
 *    concurrency (a request that loses it removes its contacts);
 * 5. reserve the daily quota atomically (refused -> the campaign and its contacts are removed, 429);
 * 6. if it still holds the campaign, the queue, then mark the campaign `created` (conditional on
 *    the owner) and count variation uses once, publish the queue's work item. A request that dies
 *    in 5 or 6 is finished by its retry once the lease ends; a request that was only slow finds
 *    the campaign taken over, stops writing and answers like a duplicate.
 */
export const createCampaign = async (deps: Deps, input: CreateCampaignInput): Promise<CampaignAnswer> => {
  const { tenant, templateType } = input;
  checkTenant(tenant, input.contacts.length);
  // Independent reads go out together: a 1000-contact batch should cost the time of its writes.
  // Suppressed phones are refused one by one (OPTED_OUT); one that opts out later is skipped by the sender.
  const optedOutLookup = optedOutPhonesOf(
    deps.store,
    tenant.id,
    input.contacts,
    tenant.config.allowLandlines,
    tenant.erasureSalt,
  );
  const urlCheck = checkCallbackUrl(deps, input);
  const instancesLookup = deps.store.listInstances(tenant.id);
  void instancesLookup.catch(() => undefined);
  const planLookups = lookUpPlanInputs(deps, tenant, templateType, instancesLookup, input.instanceId);
  // Settled here so an early refusal below never leaves a rejected promise unobserved.
  void optedOutLookup.catch(() => undefined);
  void urlCheck.catch(() => undefined);
  const [template, existing] = await Promise.all([
    loadTemplate(deps, tenant, templateType),
    deps.store.getCampaign(tenant.id, input.externalId),
  ]);
  const hash = requestHash(templateType, input.canonicalBody);
  if (existing) return resumeExisting(deps, input, template, existing, hash);
  await urlCheck;
  if (input.instanceId) await checkNamedInstance(deps, tenant.id, input.instanceId);

  const now = deps.clock.now();
  const optedOut = await optedOutLookup;
  const intake = takeInContacts(input.contacts, { ...intakeContext(tenant, template, now), optedOut });
  if (intake.accepted.length === 0) throw new DomainError('NO_VALID_CONTACTS', {}, intake.rejected);
  const phones = intake.accepted.map((contact) => contact.phone);
  const plan = await planFor(tenant, templateType, planLookups, now, phones);

  const campaign = newCampaign(deps, input, template, intake, plan, hash, now);
  const batch = planContacts(template, campaign, intake.accepted, now.toISOString());
  // The contacts go first, before the campaign that names their (new, random) queue id is stored:
  // until then no other request can know that id, so no write of ours can land on a contact a
  // retry or the sender has moved on. Once the campaign exists this request never writes a
  // contact again, however slow it is.
  await deps.store.putFreshContacts(batch.contacts);
  let created: 'created' | 'exists';
  try {
    created = await deps.store.createCampaign(campaign);
  } catch (error) {
    await discardContacts(deps, campaign, batch.contacts);
    throw error;
  }
  if (created === 'exists') {
    // A concurrent request with this external_id won the put: answer as its duplicate.
    await discardContacts(deps, campaign, batch.contacts);
    const winner = await deps.store.getCampaign(tenant.id, input.externalId);
    // Gone since the put (its request was refused and removed it, or its retention ended just
    // now): the external id is free, start afresh.
    if (!winner) return createCampaign(deps, input);
    return resumeExisting(deps, input, template, winner, hash);
  }
  if ((await finish(deps, input, campaign, batch, { contactsWritten: true, instancesLookup })) === 'lost') {
    // Too slow: a retry took the campaign over and finishes it. Answer as its duplicate.
    const current = await deps.store.getCampaign(tenant.id, input.externalId);
    if (!current) return createCampaign(deps, input);
    return resumeExisting(deps, input, template, current, hash);
  }
  return { campaign: { ...campaign, state: 'created', quotaReserved: true }, replayed: false };
};

/** The campaign a new request stores (`creating`, held by this request's owner token). */
const newCampaign = (
  deps: Deps,
  input: CreateCampaignInput,
  template: BillingTemplate,
  intake: IntakeResult,
  plan: { start: Date; minutes: number },
  hash: string,
  now: Date,
): Campaign => ({
  id: randomUUID(),
  tenantId: input.tenant.id,
  externalId: input.externalId,
  templateType: input.templateType,
  queueId: randomUUID(),
  requestHash: hash,
  apiKeyId: input.apiKey.id,
  callbackUrl: input.callbackUrl,
  callbackEvents: input.callbackEvents,
  metadata: input.metadata,
  state: 'creating',
  leaseUntil: new Date(now.getTime() + CAMPAIGN_LEASE_MS).toISOString(),
  owner: randomUUID(),
  plan: {
    seed: Math.floor(deps.random() * 2 ** 32),
    uses: Object.fromEntries(template.variations.map((v) => [v.id, v.timesUsed])),
  },
  quotaReserved: false,
  accepted: intake.accepted.length,
  rejected: intake.rejected,
  estimatedDurationMinutes: plan.minutes,
  // null = sending may start at once (the guide's clients expect null then).
  scheduledStart: plan.start > now ? plan.start.toISOString() : null,
  createdAt: now.toISOString(),
});

/** A batch's contacts as stored, rendered with the campaign's plan, and the variation uses they add. */
interface PlannedContacts {
  contacts: BillingContact[];
  uses: Record<string, number>;
}

const planContacts = (
  template: BillingTemplate,
  campaign: Campaign,
  accepted: readonly AcceptedContact[],
  at: string,
): PlannedContacts => {
  const { rendered, uses } = render(template, accepted, campaign.plan);
  const contacts = rendered.map(({ contact, variationId, message }) =>
    newBillingContact({
      queueId: campaign.queueId,
      tenantId: campaign.tenantId,
      position: contact.index,
      phone: contact.phone,
      name: contact.name,
      invoiceNumber: contact.invoiceNumber,
      variables: contact.variables,
      variationId,
      renderedMessage: message,
      createdAt: at,
    }),
  );
  return { contacts, uses };
};

/** Removes the contacts of a campaign that was never stored (or was removed); best effort. */
const discardContacts = async (deps: Deps, campaign: Campaign, contacts: readonly BillingContact[]) => {
  try {
    await deps.store.deleteFreshContacts(
      campaign.queueId,
      contacts.map((c) => c.position),
    );
  } catch (error) {
    // Left behind under a queue id nothing names: never read, never sent.
    deps.logger.warn('could not remove the contacts of a campaign that was not stored', {
      queueId: campaign.queueId,
      error: String(error),
    });
  }
};

/**
 * Steps 5 and 6, shared by the first request and a retry that takes over, as `campaign.owner`.
 * `contactsWritten`: the first request wrote them before the campaign existed; a retry creates
 * whichever are missing (none, unless the campaign predates that order) and never rewrites one.
 * `lost` when another request took the campaign over meanwhile: nothing more was written.
 */
const finish = async (
  deps: Deps,
  input: CreateCampaignInput,
  campaign: Campaign,
  batch: PlannedContacts,
  /** `instancesLookup`: the tenant's instances, when the request has read them already. */
  options: { contactsWritten: boolean; instancesLookup?: Promise<WhatsAppInstance[]> },
): Promise<'completed' | 'lost'> => {
  const { store } = deps;
  const now = deps.clock.now();
  const instancesLookup = options.instancesLookup ?? store.listInstances(campaign.tenantId);
  void instancesLookup.catch(() => undefined);
  let quotaMarked: Promise<void> = Promise.resolve();
  if (!campaign.quotaReserved && input.tenant.config.dailyMessageLimit > 0) {
    if (!(await reserveDailyQuota(deps, input.tenant, batch.contacts.length, now))) {
      // The contacts go with the campaign, unless a retry took it over (they are its contacts then).
      if (await store.deleteCreatingCampaign(campaign.tenantId, campaign.externalId, campaign.owner)) {
        await discardContacts(deps, campaign, batch.contacts);
      }
      throw new DomainError('DAILY_LIMIT_EXCEEDED');
    }
    // Goes out together with the hold below (both only touch the campaign, neither reads what the
    // other writes); it is settled before the queue is created, as when it went first.
    quotaMarked = store.markCampaignQuotaReserved(campaign.tenantId, campaign.externalId);
    void quotaMarked.catch(() => undefined);
  }

  const { uses } = batch;
  // A queue that exists means its contacts were all written (they go first) and may be sending.
  // (The request that created the campaign knows there is none yet.)
  let queue = options.contactsWritten ? undefined : await store.getQueue(campaign.queueId);
  if (!queue) {
    const { contacts } = batch;
    if (!options.contactsWritten) await store.putContacts(contacts);
    // The owner check cannot ride on the queue's own write (another item; no transactions on the
    // emulator), so it is a conditional write just before it that also renews the lease. A
    // take-over between the two is harmless: the queue is created once (its id is the campaign's),
    // and only the new owner can complete the campaign.
    const leaseUntil = new Date(deps.clock.now().getTime() + CAMPAIGN_LEASE_MS).toISOString();
    const [held] = await Promise.all([
      store.holdCampaign(campaign.tenantId, campaign.externalId, campaign.owner, leaseUntil),
      quotaMarked,
    ]);
    if (!held) return 'lost';
    const instance = chooseInstance(await instancesLookup, [
      input.instanceId,
      input.tenant.config.defaultInstanceId,
    ]);
    queue = newBillingQueue({
      id: campaign.queueId,
      tenantId: campaign.tenantId,
      campaignId: campaign.id,
      externalId: campaign.externalId,
      templateType: campaign.templateType,
      instanceId: instance?.id ?? null,
      totalContacts: contacts.length,
      createdAt: campaign.createdAt,
      nextRunAt: campaign.scheduledStart,
    });
    if ((await store.createQueue(queue)) === 'created') {
      deps.metrics.queueStatusChanged({ tenantId: queue.tenantId, queueId: queue.id, to: 'pending' });
    }
  }

  await quotaMarked;
  // Only the owner completes: false means a retry took the campaign over (it completes it).
  if (!(await store.completeCampaign(campaign.tenantId, campaign.externalId, campaign.owner))) return 'lost';
  // Counted once per batch, by whoever completed the campaign. Generation 0: a duplicate publish
  // of the same queue is dropped by FIFO deduplication. The stored queue is the outbox: a work
  // queue that is down or slow does not fail the accept (the answer is the normal one), and the
  // sweeper publishes the pending queue, as it does when this process dies right here.
  await Promise.all([
    Object.keys(uses).length
      ? store.addVariationUses(campaign.tenantId, campaign.templateType, uses)
      : undefined,
    publishOrLeaveToSweeper(deps, workItemOf(queue, 0)),
  ]);
  // Ids and counts only: never a phone or a name in the logs.
  deps.logger.info('batch accepted', {
    tenantId: campaign.tenantId,
    queueId: queue.id,
    templateType: campaign.templateType,
    accepted: campaign.accepted,
    rejected: campaign.rejected.length,
  });
  return 'completed';
};

/**
 * Another request already used this external_id. Same body: replay its answer, waiting while it
 * is being created, and finishing it ourselves when its request died (lease ended).
 */
const resumeExisting = async (
  deps: Deps,
  input: CreateCampaignInput,
  template: BillingTemplate,
  found: Campaign,
  hash: string,
): Promise<CampaignAnswer> => {
  if (found.requestHash !== hash)
    throw new DomainError('EXTERNAL_ID_CONFLICT', { externalId: input.externalId });
  // Counted in polls, not clock time: the clock may be a test's frozen one.
  let pollsLeft = DUPLICATE_WAIT_MS / DUPLICATE_POLL_MS;
  let campaign: Campaign | undefined = found;
  while (campaign) {
    if (campaign.state === 'created') return { campaign, replayed: true };
    const now = deps.clock.now();
    const leaseUntil = new Date(now.getTime() + CAMPAIGN_LEASE_MS).toISOString();
    const owner = randomUUID();
    if (
      campaign.leaseUntil < now.toISOString() &&
      (await deps.store.takeOverCampaign(
        campaign.tenantId,
        campaign.externalId,
        owner,
        now.toISOString(),
        leaseUntil,
      ))
    ) {
      deps.logger.warn('finishing a campaign whose request died or was too slow', {
        campaignId: campaign.id,
        tenantId: campaign.tenantId,
      });
      // No new opt-out check: the accepted set must be the one first planned (positions, quota,
      // rotation), so the contacts the first request refused (opted out then) stay out; a phone
      // that opted out since is skipped by the sender.
      const refused = new Set(campaign.rejected.map((r) => r.index));
      const intake = takeInContacts(
        input.contacts,
        intakeContext(input.tenant, template, new Date(campaign.createdAt)),
      );
      const accepted = intake.accepted.filter((c) => !refused.has(c.index));
      const held = { ...campaign, leaseUntil, owner };
      const batch = planContacts(template, held, accepted, now.toISOString());
      if ((await finish(deps, input, held, batch, { contactsWritten: false })) === 'completed') {
        return { campaign: { ...campaign, state: 'created', quotaReserved: true }, replayed: true };
      }
      // Taken over from us in turn (we were slow too): wait for that request like any duplicate.
    } else {
      if (pollsLeft-- <= 0) throw new DomainError('REQUEST_IN_PROGRESS');
      await new Promise((resolve) => setTimeout(resolve, DUPLICATE_POLL_MS));
    }
    campaign = await deps.store.getCampaign(campaign.tenantId, campaign.externalId);
  }
  // The first request was refused after its put (daily limit) and removed it: start afresh.
  return createCampaign(deps, input);
};
