import type {
  BillingConfig,
  BillingTemplate,
  BusinessCalendar,
  ConnectionState,
  Tenant,
  WhatsAppInstance,
} from '../../domain/tenant-types.ts';
import type { TemplateType } from '../../domain/types.ts';

/** Tenants and what each owns: billing config, business calendar, templates, WhatsApp instances. */
export interface TenantStore {
  /** Creates a tenant; `exists` if the id is taken (nothing is overwritten). */
  createTenant(tenant: Tenant): Promise<'created' | 'exists'>;
  /** The tenant with its billing config, or undefined. */
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /** All tenants (administration only; small numbers). */
  listTenants(): Promise<Tenant[]>;
  /** Merges the given config fields; undefined if the tenant does not exist. */
  updateTenantConfig(
    tenantId: string,
    patch: Partial<BillingConfig>,
    at: string,
  ): Promise<Tenant | undefined>;
  /** Creates or replaces the tenant's template of one type (use counts included). */
  putTemplate(template: BillingTemplate): Promise<void>;
  getTemplate(tenantId: string, type: TemplateType): Promise<BillingTemplate | undefined>;
  listTemplates(tenantId: string): Promise<BillingTemplate[]>;
  /** Adds to the use counts of variations, atomically, in one write (`counts`: variation id -> uses). */
  addVariationUses(tenantId: string, type: TemplateType, counts: Record<string, number>): Promise<void>;

  /** Creates or replaces an instance. */
  putInstance(instance: WhatsAppInstance): Promise<void>;
  /**
   * `eventually`: an eventually consistent read, half the price, that may not see a change of the
   * last second or so (the webhook's authentication: a rotated secret or a removed instance a
   * moment old is as good as one a moment younger).
   */
  getInstance(
    tenantId: string,
    instanceId: string,
    options?: { eventually?: boolean },
  ): Promise<WhatsAppInstance | undefined>;
  /** Removes an instance; false when the tenant has no such instance. */
  deleteInstance(tenantId: string, instanceId: string): Promise<boolean>;
  listInstances(tenantId: string): Promise<WhatsAppInstance[]>;
  setInstanceConnectionState(tenantId: string, instanceId: string, state: ConnectionState): Promise<void>;

  /** Creates or replaces the tenant's business calendar. */
  putCalendar(tenantId: string, calendar: BusinessCalendar): Promise<void>;
  getCalendar(tenantId: string): Promise<BusinessCalendar | undefined>;
}
