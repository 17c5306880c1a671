import { takeInContacts } from '../domain/contact-intake.ts';
import type { ContactRejection } from '../domain/types.ts';
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
import { optedOutPhonesOf } from './opt-outs.ts';

export interface DryRunAnswer {
  accepted: number;
  rejected: ContactRejection[];
  messages: Array<{ index: number; telefone: string; variation_id: string; message: string }>;
  estimatedDurationMinutes: number;
  scheduledStart: string | null;
}

/** Validates and renders without storing anything (`?dry_run=true`). */
export const dryRunCampaign = async (
  deps: CreateCampaignDeps,
  input: CreateCampaignInput,
): Promise<DryRunAnswer> => {
  const { tenant, templateType } = input;
  checkTenant(tenant, input.contacts.length);
  const instancesLookup = deps.store.listInstances(tenant.id);
  const planLookups = lookUpPlanInputs(deps, tenant, templateType, instancesLookup, input.instanceId);
  const template = await loadTemplate(deps, tenant, templateType);
  await checkCallbackUrl(deps, input);
  if (input.instanceId) await checkNamedInstance(deps, tenant.id, input.instanceId);
  const now = deps.clock.now();
  const optedOut = await optedOutPhonesOf(
    deps.store,
    tenant.id,
    input.contacts,
    tenant.config.allowLandlines,
    tenant.erasureSalt,
  );
  const intake = takeInContacts(input.contacts, { ...intakeContext(tenant, template, now), optedOut });
  const uses = Object.fromEntries(template.variations.map((v) => [v.id, v.timesUsed]));
  const { rendered } = render(template, intake.accepted, { seed: Math.floor(deps.random() * 2 ** 32), uses });
  const phones = intake.accepted.map((contact) => contact.phone);
  const plan = await planFor(tenant, templateType, planLookups, now, phones);
  return {
    accepted: intake.accepted.length,
    rejected: intake.rejected,
    messages: rendered.map((r) => ({
      index: r.contact.index,
      telefone: r.contact.phone,
      variation_id: r.variationId,
      message: r.message,
    })),
    estimatedDurationMinutes: plan.minutes,
    scheduledStart: plan.start > now ? plan.start.toISOString() : null,
  };
};
