import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type CollectionFinding,
  describeFinding,
  lintCollectionHours,
  lintCollectionTemplate,
} from '../domain/collection-lint.ts';
import { creditorVariables } from '../domain/creditor.ts';
import { DomainError } from '../domain/errors.ts';
import { assertValidTemplate } from '../domain/template.ts';
import {
  type BillingTemplate,
  ROTATION_STRATEGIES,
  type TemplateVariation,
  type Tenant,
} from '../domain/tenant-types.ts';
import { TEMPLATE_TYPES, type TemplateType } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { TenantStore } from '../ports/store.ts';

/** The template document an operator writes (snake_case, like the rest of the public API). */
export const templateInputSchema = z.object({
  name: z.string().min(1).max(200).optional(),
  is_active: z.boolean().default(true),
  required_variables: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/)).default([]),
  rotation_strategy: z.enum(ROTATION_STRATEGIES).default('sequential'),
  variations: z
    .array(
      z.union([
        z.string().min(1),
        z.object({ message_template: z.string().min(1).max(4096), is_active: z.boolean().default(true) }),
      ]),
    )
    .min(1)
    .max(50),
});

export type TemplateInput = z.input<typeof templateInputSchema>;

/** A variation's id is derived from its text, so re-saving the same text keeps its use count. */
const variationId = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);

export interface SetTemplateOptions {
  /** Refuse the template if its text breaks a collection rule (the tenant's `strictTemplateLint` also does). */
  strict?: boolean;
}

export interface SetTemplateResult {
  template: BillingTemplate;
  /**
   * The collection rules the stored template breaks (per variation) and, for `overdue` and
   * `upcoming`, those the tenant's business hours break: warnings, the template is saved.
   */
  warnings: CollectionFinding[];
}

/**
 * Creates or replaces the tenant's template of one type.
 * 1. parse; 2. lint every variation (unknown or malformed tags are refused with the reason);
 * 3. check every variation against the collection rules (CDC): warnings, or a refusal when strict;
 * 4. keep the use counts of unchanged variations; 5. store; 6. add the warnings about the
 * tenant's business hours for the types that keep them.
 */
export const setTemplate = async (
  deps: { store: TenantStore; clock: Clock },
  tenantId: string,
  type: string,
  input: unknown,
  options: SetTemplateOptions = {},
): Promise<SetTemplateResult> => {
  if (!(TEMPLATE_TYPES as readonly string[]).includes(type)) {
    throw new DomainError('INVALID_CONFIG', { reason: `tipo de template inválido: ${type}` });
  }
  const parsed = templateInputSchema.safeParse(input);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'template'}: ${i.message}`)
      .join('; ');
    throw new DomainError('TEMPLATE_INVALID', { reason });
  }
  const doc = parsed.data;
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new DomainError('TENANT_NOT_FOUND', { id: tenantId });
  const previous = await deps.store.getTemplate(tenantId, type as TemplateType);
  const usesById = new Map(previous?.variations.map((v) => [v.id, v.timesUsed]));

  const variations: TemplateVariation[] = doc.variations.map((v) => {
    const text = typeof v === 'string' ? v : v.message_template;
    assertValidTemplate(text, doc.required_variables);
    const id = variationId(text);
    return {
      id,
      messageTemplate: text,
      isActive: typeof v === 'string' ? true : v.is_active,
      timesUsed: usesById.get(id) ?? 0,
    };
  });
  if (new Set(variations.map((v) => v.id)).size !== variations.length) {
    throw new DomainError('TEMPLATE_INVALID', { reason: 'variações repetidas' });
  }
  if (!variations.some((v) => v.isActive)) throw new DomainError('NO_ACTIVE_VARIATION');
  const findings = lintCollectionTemplate(
    variations.map((v) => v.messageTemplate),
    collectionContext(tenant, type as TemplateType, doc.required_variables),
  );
  if (findings.length > 0 && (options.strict || tenant.config.strictTemplateLint)) {
    throw new DomainError(
      'TEMPLATE_LINT_FAILED',
      { count: findings.length, reason: findings.map(describeFinding).join('; ') },
      findings,
    );
  }

  const template: BillingTemplate = {
    tenantId,
    type: type as TemplateType,
    name: doc.name ?? `${type} (${tenantId})`,
    isActive: doc.is_active,
    requiredVariables: doc.required_variables,
    rotationStrategy: doc.rotation_strategy,
    variations,
    updatedAt: deps.clock.now().toISOString(),
  };
  await deps.store.putTemplate(template);
  return { template, warnings: [...findings, ...(await hoursFindings(deps, tenantId, template.type))] };
};

const collectionContext = (tenant: Tenant, type: TemplateType, requiredVariables: readonly string[]) => ({
  type,
  requiredVariables,
  fixedVariables: Object.keys(creditorVariables(tenant.config)),
  creditorNames: [tenant.config.creditorName ?? '', tenant.name].filter((name) => name.trim() !== ''),
});

/**
 * Hours are the calendar's, not the template's: reported here because a reminder type that keeps
 * business hours is being set up, never a reason to refuse the template (`hours set` fixes them).
 */
const hoursFindings = async (
  deps: { store: TenantStore },
  tenantId: string,
  type: TemplateType,
): Promise<CollectionFinding[]> => {
  if (type === 'notification') return [];
  const calendar = await deps.store.getCalendar(tenantId);
  return calendar ? lintCollectionHours(calendar) : [];
};
