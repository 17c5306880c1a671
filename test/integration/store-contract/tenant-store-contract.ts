import { describe, expect, it } from 'vitest';
import { keys, TTL_ATTRIBUTE } from '../../../lib/adapters/store/table-schema.ts';
import { DEFAULT_BILLING_CONFIG } from '../../../lib/domain/billing-config.ts';
import type {
  ApiKey,
  BillingConfig,
  BillingTemplate,
  BusinessCalendar,
  Tenant,
  WhatsAppInstance,
} from '../../../lib/domain/tenant-types.ts';
import type { Clock } from '../../../lib/ports/clock.ts';
import type { MakeStore } from './make-store.ts';

/** A clock the test moves by hand. */
export const manualClock = (start: string): Clock & { set(iso: string): void } => {
  let current = new Date(start);
  return { now: () => current, set: (iso) => (current = new Date(iso)) };
};

/** The product's defaults, with a jitter of its own so a stored config is seen to be this one. */
const config = (overrides: Partial<BillingConfig> = {}): BillingConfig => ({
  ...DEFAULT_BILLING_CONFIG,
  jitterSeconds: 2,
  ...overrides,
});

export const tenant = (id: string, overrides: Partial<Tenant> = {}): Tenant => ({
  id,
  name: `Empresa ${id}`,
  config: config(),
  createdAt: '2025-01-10T12:00:00.000Z',
  updatedAt: '2025-01-10T12:00:00.000Z',
  ...overrides,
});

export const apiKey = (overrides: Partial<ApiKey> = {}): ApiKey => ({
  id: 'key-1',
  tenantId: 'acme',
  name: 'ERP',
  description: '',
  keyHash: 'a'.repeat(64),
  keyPrefix: 'billing_ab',
  allowedTemplateTypes: ['overdue', 'upcoming'],
  allowedIps: [],
  expiresAt: null,
  isActive: true,
  usageCount: 0,
  lastUsedAt: null,
  lastUsedIp: null,
  signingSecrets: ['secret-1'],
  createdAt: '2025-01-10T12:00:00.000Z',
  ...overrides,
});

const template = (overrides: Partial<BillingTemplate> = {}): BillingTemplate => ({
  tenantId: 'acme',
  type: 'overdue',
  name: 'Cobrança atrasada',
  isActive: true,
  requiredVariables: ['nome_cliente', 'valor'],
  rotationStrategy: 'sequential',
  variations: [
    {
      id: 'v1',
      messageTemplate: 'Olá {{nome_cliente}}, sua fatura de {{valor}} venceu.',
      isActive: true,
      timesUsed: 4,
    },
    {
      id: 'v2',
      messageTemplate: 'Oi {{nome_cliente}}! Fatura {{valor}} em aberto.',
      isActive: true,
      timesUsed: 0,
    },
    { id: 'v3', messageTemplate: 'Lembrete: {{valor}}.', isActive: false, timesUsed: 1 },
  ],
  updatedAt: '2025-01-10T12:00:00.000Z',
  ...overrides,
});

export const instance = (overrides: Partial<WhatsAppInstance> = {}): WhatsAppInstance => ({
  id: 'inst-1',
  tenantId: 'acme',
  instanceName: 'acme-principal',
  baseUrl: 'http://127.0.0.1:8081',
  credentialRef: 'env:EVOLUTION_API_KEY',
  webhookSecret: 'whsec',
  isActive: true,
  connectionState: 'open',
  createdAt: '2025-01-10T12:00:00.000Z',
  ...overrides,
});

/** The TenantStore, ApiKeyStore and CounterStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeTenantStoreContract(makeStore: MakeStore): void {
  const freshStore = (clock?: Clock) => makeStore({ clock });

  describe('TenantStore, ApiKeyStore and CounterStore contract', () => {
    describe('tenants', () => {
      it('creates a tenant and reports exists on a second create without overwriting it', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const first = await store.createTenant(tenant('acme'));
        const second = await store.createTenant(tenant('acme', { name: 'Outra' }));

        // Assess
        expect(first).toBe('created');
        expect(second).toBe('exists');
        expect(await store.getTenant('acme')).toEqual(tenant('acme'));
      });

      it('returns undefined for an unknown tenant and lists the tenants that exist', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createTenant(tenant('acme'));
        await store.createTenant(tenant('beta'));

        // Act
        const missing = await store.getTenant('nope');
        const all = await store.listTenants();

        // Assess
        expect(missing).toBeUndefined();
        expect(all.map((t) => t.id).sort()).toEqual(['acme', 'beta']);
        expect(all.find((t) => t.id === 'beta')).toEqual(tenant('beta'));
      });

      it('merges config fields and keeps the others when updating a tenant', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createTenant(tenant('acme'));

        // Act
        const updated = await store.updateTenantConfig(
          'acme',
          // An undefined field (as zod leaves absent optional fields) means "unchanged".
          { dailyMessageLimit: 500, timezone: 'America/Manaus', jitterSeconds: undefined },
          '2025-02-01T00:00:00.000Z',
        );

        // Assess
        const expected = tenant('acme', {
          config: config({ dailyMessageLimit: 500, timezone: 'America/Manaus' }),
          updatedAt: '2025-02-01T00:00:00.000Z',
        });
        expect(updated).toEqual(expected);
        expect(await store.getTenant('acme')).toEqual(expected);
      });

      it('sets a nullable config field and clears it back to null', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createTenant(tenant('acme'));
        await store.updateTenantConfig(
          'acme',
          { creditorName: 'ACME Ltda', creditorDocument: '11.222.333/0001-81' },
          '2025-02-01T00:00:00.000Z',
        );

        // Act
        await store.updateTenantConfig('acme', { creditorName: null }, '2025-02-02T00:00:00.000Z');

        // Assess
        expect((await store.getTenant('acme'))?.config).toEqual(
          config({ creditorName: null, creditorDocument: '11.222.333/0001-81' }),
        );
      });

      it('returns undefined and creates nothing when updating an unknown tenant', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const updated = await store.updateTenantConfig(
          'ghost',
          { maxRetries: 1 },
          '2025-02-01T00:00:00.000Z',
        );

        // Assess
        expect(updated).toBeUndefined();
        expect(await store.getTenant('ghost')).toBeUndefined();
      });
    });

    describe('api keys', () => {
      it('finds a key by its hash without exposing table attributes', async () => {
        // Prepare
        const { store } = await freshStore();
        const key = apiKey({ expiresAt: '2026-01-01T00:00:00.000Z' });

        // Act
        const outcome = await store.createApiKey(key);
        const found = await store.getApiKeyByHash(key.keyHash);

        // Assess
        expect(outcome).toBe('created');
        expect(found).toEqual(key);
        expect(await store.getApiKeyByHash('b'.repeat(64))).toBeUndefined();
      });

      it('reports exists and keeps the first key when the same hash is created twice', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(apiKey());

        // Act
        const outcome = await store.createApiKey(apiKey({ id: 'key-2', tenantId: 'beta', name: 'Intruso' }));

        // Assess
        expect(outcome).toBe('exists');
        expect(await store.getApiKeyByHash(apiKey().keyHash)).toEqual(apiKey());
      });

      it('reports exists when the tenant already has a key with the same id', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(apiKey());

        // Act
        const outcome = await store.createApiKey(apiKey({ keyHash: 'c'.repeat(64) }));

        // Assess
        expect(outcome).toBe('exists');
        expect(await store.getApiKeyByHash('c'.repeat(64))).toBeUndefined();
      });

      it("lists only the tenant's keys, newest first", async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(
          apiKey({ id: 'old', keyHash: '1'.repeat(64), createdAt: '2025-01-01T00:00:00.000Z' }),
        );
        await store.createApiKey(
          apiKey({ id: 'new', keyHash: '2'.repeat(64), createdAt: '2025-03-01T00:00:00.000Z' }),
        );
        await store.createApiKey(
          apiKey({ id: 'mid', keyHash: '3'.repeat(64), createdAt: '2025-02-01T00:00:00.000Z' }),
        );
        await store.createApiKey(apiKey({ id: 'other', tenantId: 'beta', keyHash: '4'.repeat(64) }));

        // Act
        const listed = await store.listApiKeys('acme');

        // Assess
        expect(listed.map((k) => k.id)).toEqual(['new', 'mid', 'old']);
        expect(listed[0]).toEqual(
          apiKey({ id: 'new', keyHash: '2'.repeat(64), createdAt: '2025-03-01T00:00:00.000Z' }),
        );
      });

      it('revokes a key of the tenant and refuses the key id of another tenant', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(apiKey({ id: 'acme-key', keyHash: '1'.repeat(64) }));
        await store.createApiKey(apiKey({ id: 'beta-key', tenantId: 'beta', keyHash: '2'.repeat(64) }));

        // Act
        const revoked = await store.revokeApiKey('acme', 'acme-key');
        const crossTenant = await store.revokeApiKey('acme', 'beta-key');
        const unknown = await store.revokeApiKey('acme', 'nope');

        // Assess
        expect(revoked).toBe(true);
        expect(crossTenant).toBe(false);
        expect(unknown).toBe(false);
        expect((await store.getApiKeyByHash('1'.repeat(64)))?.isActive).toBe(false);
        expect((await store.getApiKeyByHash('2'.repeat(64)))?.isActive).toBe(true);
      });

      it('counts each use and keeps the latest time and address', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(apiKey());

        // Act
        await Promise.all([
          store.recordApiKeyUse(apiKey().keyHash, '2025-01-11T10:00:00.000Z', '203.0.113.7'),
          store.recordApiKeyUse(apiKey().keyHash, '2025-01-11T10:00:00.000Z', '203.0.113.7'),
        ]);
        await store.recordApiKeyUse(apiKey().keyHash, '2025-01-11T11:00:00.000Z', '2001:db8::1');

        // Assess
        const key = await store.getApiKeyByHash(apiKey().keyHash);
        expect(key?.usageCount).toBe(3);
        expect(key?.lastUsedAt).toBe('2025-01-11T11:00:00.000Z');
        expect(key?.lastUsedIp).toBe('2001:db8::1');
      });

      it('does not create a key when recording a use of an unknown hash', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        await store.recordApiKeyUse('f'.repeat(64), '2025-01-11T10:00:00.000Z', '203.0.113.7');

        // Assess
        expect(await store.getApiKeyByHash('f'.repeat(64))).toBeUndefined();
      });

      it('replaces the signing secrets of a key of the tenant only', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createApiKey(apiKey());

        // Act
        const replaced = await store.setApiKeySigningSecrets('acme', 'key-1', ['secret-2', 'secret-1']);
        const crossTenant = await store.setApiKeySigningSecrets('beta', 'key-1', ['stolen']);

        // Assess
        expect(replaced).toBe(true);
        expect(crossTenant).toBe(false);
        expect((await store.getApiKeyByHash(apiKey().keyHash))?.signingSecrets).toEqual([
          'secret-2',
          'secret-1',
        ]);
      });
    });

    describe('templates', () => {
      it('stores and returns a template with its variations and use counts', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        await store.putTemplate(template());
        const found = await store.getTemplate('acme', 'overdue');

        // Assess
        expect(found).toEqual(template());
        expect(await store.getTemplate('acme', 'upcoming')).toBeUndefined();
      });

      it('adds to the use counts of several variations in one call', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putTemplate(template());

        // Act
        await Promise.all([
          store.addVariationUses('acme', 'overdue', { v1: 2, v2: 5 }),
          store.addVariationUses('acme', 'overdue', { v2: 1, v3: 3 }),
        ]);

        // Assess
        const found = await store.getTemplate('acme', 'overdue');
        expect(found?.variations.map((v) => [v.id, v.timesUsed])).toEqual([
          ['v1', 6],
          ['v2', 6],
          ['v3', 4],
        ]);
      });

      it('resets the counts when a template is replaced and never recreates a missing one', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putTemplate(template());
        await store.addVariationUses('acme', 'overdue', { v1: 10 });

        // Act
        await store.putTemplate(
          template({ variations: [{ id: 'v9', messageTemplate: 'Novo', isActive: true, timesUsed: 0 }] }),
        );
        await store.addVariationUses('acme', 'upcoming', { v1: 1 });

        // Assess
        expect((await store.getTemplate('acme', 'overdue'))?.variations).toEqual([
          { id: 'v9', messageTemplate: 'Novo', isActive: true, timesUsed: 0 },
        ]);
        expect(await store.getTemplate('acme', 'upcoming')).toBeUndefined();
      });

      it("lists the tenant's templates only", async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putTemplate(template());
        await store.putTemplate(template({ type: 'notification', name: 'Aviso' }));
        await store.putTemplate(template({ tenantId: 'beta' }));
        await store.putInstance(instance());

        // Act
        const listed = await store.listTemplates('acme');

        // Assess
        expect(listed.map((t) => t.type).sort()).toEqual(['notification', 'overdue']);
        expect(listed.find((t) => t.type === 'overdue')).toEqual(template());
      });
    });

    describe('instances and calendar', () => {
      it('stores, lists and updates the connection state of instances', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putInstance(instance());
        await store.putInstance(instance({ id: 'inst-2', instanceName: 'acme-reserva' }));
        await store.putInstance(instance({ id: 'inst-3', tenantId: 'beta' }));
        await store.putTemplate(template());

        // Act
        await store.setInstanceConnectionState('acme', 'inst-1', 'close');
        await store.setInstanceConnectionState('acme', 'gone', 'open');

        // Assess
        expect(await store.getInstance('acme', 'inst-1')).toEqual(instance({ connectionState: 'close' }));
        expect((await store.listInstances('acme')).map((i) => i.id).sort()).toEqual(['inst-1', 'inst-2']);
        expect(await store.getInstance('acme', 'gone')).toBeUndefined();
        expect(await store.getInstance('beta', 'inst-1')).toBeUndefined();
      });

      it('removes an instance once, and only the tenant’s own', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putInstance(instance());
        await store.putInstance(instance({ tenantId: 'beta' }));

        // Act
        const removed = await store.deleteInstance('acme', 'inst-1');
        const again = await store.deleteInstance('acme', 'inst-1');

        // Assess
        expect([removed, again]).toEqual([true, false]);
        expect(await store.getInstance('acme', 'inst-1')).toBeUndefined();
        expect(await store.getInstance('beta', 'inst-1')).toEqual(instance({ tenantId: 'beta' }));
      });

      it('stores and returns a calendar, also without the optional region', async () => {
        // Prepare
        const { store } = await freshStore();
        const calendar: BusinessCalendar = {
          timezone: 'America/Sao_Paulo',
          weekly: {
            1: [
              { start: '08:00', end: '12:00' },
              { start: '13:00', end: '18:00' },
            ],
            6: [{ start: '09:00', end: '12:00' }],
          },
          nationalHolidays: true,
          region: undefined,
          closedDates: ['2025-12-24'],
        };

        // Act
        await store.putCalendar('acme', calendar);
        await store.putCalendar('beta', { ...calendar, region: 'SP', closedDates: [] });

        // Assess
        const { region: _region, ...withoutRegion } = calendar;
        expect(await store.getCalendar('acme')).toEqual(withoutRegion);
        expect(await store.getCalendar('beta')).toEqual({ ...calendar, region: 'SP', closedDates: [] });
        expect(await store.getCalendar('gamma')).toBeUndefined();
      });
    });

    describe('counters', () => {
      const inAnHour = () => new Date(Date.now() + 3_600_000);
      const day = '2025-01-10';
      it('lets exactly 15 of 20 concurrent reservations of 1 through a daily limit of 15', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.reserveDailyQuota('acme', day, 1, 15, inAnHour())),
        );

        // Assess
        const accepted = results.filter((r) => r.ok);
        expect(accepted).toHaveLength(15);
        expect(accepted.map((r) => r.value).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 15 }, (_, i) => i + 1),
        );
        expect(results.filter((r) => !r.ok).every((r) => r.value === 15)).toBe(true);
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(15);
      });

      it('lets exactly 10 of 20 concurrent reservations of 3 through a daily limit of 30', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.reserveDailyQuota('acme', day, 3, 30, inAnHour())),
        );

        // Assess
        expect(results.filter((r) => r.ok)).toHaveLength(10);
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(30);
      });

      it('never refuses when there is no limit', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const results = await Promise.all(
          Array.from({ length: 30 }, () => store.reserveDailyQuota('acme', day, 5, null, inAnHour())),
        );

        // Assess
        expect(results.every((r) => r.ok)).toBe(true);
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(150);
      });

      it('refuses a reservation larger than the limit on a new day and stores nothing', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const result = await store.reserveDailyQuota('acme', day, 1001, 1000, inAnHour());

        // Assess
        expect(result).toEqual({ ok: false, value: 0 });
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(0);
      });

      it('keeps days and tenants apart', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.reserveDailyQuota('acme', day, 10, 10, inAnHour());

        // Act
        const nextDay = await store.reserveDailyQuota('acme', '2025-01-11', 10, 10, inAnHour());
        const otherTenant = await store.reserveDailyQuota('beta', day, 10, 10, inAnHour());
        const sameDay = await store.reserveDailyQuota('acme', day, 1, 10, inAnHour());

        // Assess
        expect([nextDay, otherTenant, sameDay]).toEqual([
          { ok: true, value: 10 },
          { ok: true, value: 10 },
          { ok: false, value: 10 },
        ]);
      });

      it('lets exactly 30 of 40 concurrent sends of a warming-up instance through its cap of 30 a day', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const results = await Promise.all(
          Array.from({ length: 40 }, () => store.reserveInstanceSend('acme', 'inst-1', day, 30, inAnHour())),
        );

        // Assess
        expect(results.filter((r) => r.ok)).toHaveLength(30);
        expect(results.filter((r) => !r.ok).every((r) => r.value === 30)).toBe(true);
        expect(await store.getInstanceSends('acme', 'inst-1', day)).toBe(30);
      });

      it('keeps instances, tenants and days apart in the warm-up counts', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.reserveInstanceSend('acme', 'inst-1', day, 1, inAnHour());

        // Act
        const sameDay = await store.reserveInstanceSend('acme', 'inst-1', day, 1, inAnHour());
        const nextDay = await store.reserveInstanceSend('acme', 'inst-1', '2025-01-11', 1, inAnHour());
        const otherInstance = await store.reserveInstanceSend('acme', 'inst-2', day, 1, inAnHour());
        const otherTenant = await store.reserveInstanceSend('beta', 'inst-1', day, 1, inAnHour());

        // Assess
        expect([sameDay, nextDay, otherInstance, otherTenant]).toEqual([
          { ok: false, value: 1 },
          { ok: true, value: 1 },
          { ok: true, value: 1 },
          { ok: true, value: 1 },
        ]);
        expect(await store.getInstanceSends('acme', 'inst-1', day)).toBe(1);
        expect(await store.getInstanceSends('acme', 'inst-3', day)).toBe(0);
        // A tenant's daily quota is another counter.
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(0);
      });

      it('counts key requests per key, budget and UTC hour up to the limit', async () => {
        // Prepare
        const { store } = await freshStore();
        const hour = new Date('2025-01-10T12:00:00.000Z');
        const nextHour = new Date('2025-01-10T13:00:00.000Z');

        // Act
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.countKeyRequest('key-1', 'writes', hour, 3, inAnHour())),
        );
        const otherKey = await store.countKeyRequest('key-2', 'writes', hour, 3, inAnHour());
        const reads = await store.countKeyRequest('key-1', 'reads', hour, 3, inAnHour());
        const laterHour = await store.countKeyRequest('key-1', 'writes', nextHour, 3, inAnHour());

        // Assess
        expect(
          results
            .filter((r) => r.ok)
            .map((r) => r.value)
            .sort(),
        ).toEqual([1, 2, 3]);
        expect(results.filter((r) => !r.ok)).toEqual([
          { ok: false, value: 3 },
          { ok: false, value: 3 },
        ]);
        expect(otherKey).toEqual({ ok: true, value: 1 });
        expect(reads).toEqual({ ok: true, value: 1 });
        expect(laterHour).toEqual({ ok: true, value: 1 });
      });

      it('restarts an expired counter atomically under concurrent reservations', async () => {
        // Prepare
        const clock = manualClock('2025-01-10T12:00:00.000Z');
        const { store } = await freshStore(clock);
        // Below the limit, so only the expiry (not the limit) can make the old count irrelevant.
        await store.reserveDailyQuota('acme', day, 5, 15, new Date('2025-01-10T12:30:00.000Z'));
        clock.set('2025-01-10T12:31:00.000Z');

        // Act
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.reserveDailyQuota('acme', day, 1, 15, new Date('2025-01-10T13:30:00.000Z')),
          ),
        );

        // Assess
        expect(results.filter((r) => r.ok)).toHaveLength(15);
        expect(await store.getDailyQuotaUsed('acme', day)).toBe(15);
      });

      it('counts from zero again once the TTL has passed, even before the item is deleted', async () => {
        // Prepare
        const clock = manualClock('2025-01-10T12:00:00.000Z');
        const { store, tableItem } = await freshStore(clock);
        const expiresAt = new Date('2025-01-10T13:00:00.000Z');
        await store.reserveDailyQuota('acme', day, 10, 15, expiresAt);
        const refusedBefore = await store.reserveDailyQuota('acme', day, 10, 15, expiresAt);

        // Act
        clock.set('2025-01-10T13:00:01.000Z');
        const readAfter = await store.getDailyQuotaUsed('acme', day);
        const next = await store.reserveDailyQuota('acme', day, 2, 15, new Date('2025-01-10T14:00:00.000Z'));
        const unlimited = await store.reserveDailyQuota(
          'acme',
          day,
          10,
          null,
          new Date('2025-01-10T14:00:00.000Z'),
        );

        // Assess
        expect(refusedBefore).toEqual({ ok: false, value: 10 });
        expect(readAfter).toBe(0);
        expect(next).toEqual({ ok: true, value: 2 });
        expect(unlimited).toEqual({ ok: true, value: 12 });
        if (tableItem) {
          const item = await tableItem(keys.dailyQuota('acme', day));
          expect(item?.[TTL_ATTRIBUTE]).toBe(Date.parse('2025-01-10T14:00:00.000Z') / 1000);
        }
      });

      describe("a tenant's hourly figures", () => {
        const hour = (iso: string) => new Date(`2025-01-10T${iso}:00:00.000Z`);
        const inAYear = () => new Date(Date.now() + 365 * 86_400_000);
        const none = { sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, stalled: 0, opted_out: 0 };

        it('adds every concurrent write of an hour, figure by figure', async () => {
          // Prepare
          const { store } = await freshStore();

          // Act
          await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              store.addTenantFigures(
                'acme',
                hour('12'),
                i % 2 ? { sent: 1 } : { sent: 1, read: 2 },
                inAYear(),
              ),
            ),
          );
          await store.addTenantFigures(
            'acme',
            hour('12'),
            { failed: 1, opted_out: 1, stalled: 3 },
            inAYear(),
          );

          // Assess
          expect(await store.listTenantFigures('acme', hour('12'), hour('13'))).toEqual([
            { ...none, hourStart: hour('12'), sent: 20, read: 20, failed: 1, opted_out: 1, stalled: 3 },
          ]);
        });

        it('lists the hours starting in [from, to), oldest first, each tenant its own', async () => {
          // Prepare
          const { store } = await freshStore();
          for (const at of ['09', '10', '11', '12', '13'])
            await store.addTenantFigures('acme', hour(at), { sent: Number(at) }, inAYear());
          await store.addTenantFigures('beta', hour('11'), { delivered: 5 }, inAYear());

          // Act
          const whole = await store.listTenantFigures('acme', hour('10'), hour('13'));
          // 10:30 to 12:30: the hours starting in it are 11:00 and 12:00.
          const partial = await store.listTenantFigures(
            'acme',
            new Date('2025-01-10T10:30:00.000Z'),
            new Date('2025-01-10T12:30:00.000Z'),
          );
          const other = await store.listTenantFigures('beta', hour('00'), hour('23'));
          const unknown = await store.listTenantFigures('gamma', hour('00'), hour('23'));

          // Assess
          expect(whole.map((h) => [h.hourStart.toISOString().slice(11, 13), h.sent])).toEqual([
            ['10', 10],
            ['11', 11],
            ['12', 12],
          ]);
          expect(partial.map((h) => h.sent)).toEqual([11, 12]);
          expect(other).toEqual([{ ...none, hourStart: hour('11'), delivered: 5 }]);
          expect(unknown).toEqual([]);
        });

        it('forgets an hour once its TTL has passed, even before the item is deleted', async () => {
          // Prepare
          const clock = manualClock('2025-01-10T12:00:00.000Z');
          const { store, tableItem } = await freshStore(clock);
          const expiresAt = new Date('2025-01-11T12:00:00.000Z');
          await store.addTenantFigures('acme', hour('11'), { sent: 2 }, expiresAt);

          // Act
          const before = await store.listTenantFigures('acme', hour('11'), hour('12'));
          clock.set('2025-01-11T12:00:01.000Z');
          const after = await store.listTenantFigures('acme', hour('11'), hour('12'));

          // Assess
          expect(before.map((h) => h.sent)).toEqual([2]);
          expect(after).toEqual([]);
          if (tableItem) {
            const item = await tableItem(keys.tenantFigures('acme', hour('11')));
            expect(item?.[TTL_ATTRIBUTE]).toBe(expiresAt.getTime() / 1000);
          }
        });
      });
    });
  });
}
