import { describe, expect, it } from 'vitest';
import { addInstance, setInstanceWarmup } from '../../lib/app/add-instance.ts';
import { instance } from '../integration/store-contract/tenant-store-contract.ts';
import { inMemoryDeps, refusalOf, tenantWith } from '../support/use-case-deps.ts';

const connection = { baseUrl: 'http://evolution.local', credentialRef: 'plain:k' };

describe('add-instance', () => {
  it('refuses an id that could not sit inside a table key, and keeps a plain one', async () => {
    // Prepare
    const deps = inMemoryDeps();
    await deps.store.createTenant(tenantWith());

    // Act
    const refused = await refusalOf(() =>
      addInstance(deps, { tenantId: 'acme', id: 'loja#1', instanceName: 'loja', ...connection }),
    );
    const added = await addInstance(deps, {
      tenantId: 'acme',
      id: 'loja-1.sp',
      instanceName: 'loja',
      ...connection,
    });

    // Assess
    expect(refused).toMatchObject({ code: 'INVALID_CONFIG', status: 400 });
    expect(await deps.store.getInstance('acme', 'loja#1')).toBeUndefined();
    expect(added).toMatchObject({ id: 'loja-1.sp', instanceName: 'loja', tenantId: 'acme' });
  });

  it('warms a new number up from the tenant’s today, or not at all for an old one', async () => {
    // Prepare: 22:00 on 2026-03-02 in São Paulo is already the 3rd in UTC
    const deps = inMemoryDeps('2026-03-03T01:00:00.000Z');
    await deps.store.createTenant(tenantWith());

    // Act
    const fresh = await addInstance(deps, { tenantId: 'acme', instanceName: 'nova', ...connection });
    const custom = await addInstance(deps, {
      tenantId: 'acme',
      instanceName: 'rapida',
      ...connection,
      warmup: { firstDayLimit: 100, dailyGrowth: 3 },
    });
    const old = await addInstance(deps, {
      tenantId: 'acme',
      instanceName: 'antiga',
      ...connection,
      warmup: { enabled: false },
    });

    // Assess
    expect(fresh.warmup).toEqual({
      enabled: true,
      startDate: '2026-03-02',
      firstDayLimit: 30,
      dailyGrowth: 2,
    });
    expect(custom.warmup).toMatchObject({ enabled: true, firstDayLimit: 100, dailyGrowth: 3 });
    expect(old.warmup).toMatchObject({ enabled: false });
  });

  it('keeps the ramp (or its absence) of an instance it replaces', async () => {
    // Prepare: an instance stored before warm-up existed, and one warming up since Monday
    const deps = inMemoryDeps('2026-03-04T13:00:00.000Z');
    await deps.store.createTenant(tenantWith());
    await deps.store.putInstance(instance({ id: 'antiga', tenantId: 'acme' }));
    await addInstance(deps, { tenantId: 'acme', id: 'nova', instanceName: 'nova', ...connection });
    deps.clock.set('2026-03-05T13:00:00.000Z');

    // Act
    const old = await addInstance(deps, {
      tenantId: 'acme',
      id: 'antiga',
      instanceName: 'antiga',
      ...connection,
    });
    const warming = await addInstance(deps, {
      tenantId: 'acme',
      id: 'nova',
      instanceName: 'nova',
      ...connection,
    });

    // Assess
    expect(old.warmup).toBeUndefined();
    expect(warming.warmup?.startDate).toBe('2026-03-04');
  });

  it('switches a ramp off, on again from today for an old number, and restarts it', async () => {
    // Prepare
    const deps = inMemoryDeps('2026-03-04T13:00:00.000Z');
    await deps.store.createTenant(tenantWith());
    await deps.store.putInstance(instance({ id: 'antiga', tenantId: 'acme' }));
    await addInstance(deps, { tenantId: 'acme', id: 'nova', instanceName: 'nova', ...connection });
    deps.clock.set('2026-03-06T13:00:00.000Z');

    // Act
    const off = await setInstanceWarmup(deps, 'acme', 'nova', { enabled: false });
    const onAgain = await setInstanceWarmup(deps, 'acme', 'nova', { enabled: true, firstDayLimit: 50 });
    const firstRamp = await setInstanceWarmup(deps, 'acme', 'antiga', { enabled: true });
    const restarted = await setInstanceWarmup(deps, 'acme', 'nova', { restart: true });
    const refused = await refusalOf(() => setInstanceWarmup(deps, 'acme', 'nova', { dailyGrowth: 0 }));

    // Assess: switching back on keeps the day count; only a restart or a first ramp starts today
    expect(off.warmup).toMatchObject({ enabled: false, startDate: '2026-03-04' });
    expect(onAgain.warmup).toMatchObject({ enabled: true, startDate: '2026-03-04', firstDayLimit: 50 });
    expect(firstRamp.warmup).toEqual({
      enabled: true,
      startDate: '2026-03-06',
      firstDayLimit: 30,
      dailyGrowth: 2,
    });
    expect(restarted.warmup?.startDate).toBe('2026-03-06');
    expect(refused).toMatchObject({ code: 'INVALID_CONFIG' });
    expect((await deps.store.getInstance('acme', 'nova'))?.warmup?.dailyGrowth).toBe(2);
  });
});
