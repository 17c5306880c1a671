import { describe, expect, it } from 'vitest';
import { addInstance } from '../../lib/app/add-instance.ts';
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
});
