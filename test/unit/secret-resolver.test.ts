import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceSecretResolver } from '../../lib/adapters/secrets/reference-secret-resolver.ts';
import { createSsmParameterReader } from '../../lib/adapters/secrets/ssm-parameter-reader.ts';
import { loadConfig } from '../../lib/config.ts';

describe('createReferenceSecretResolver', () => {
  it('resolves plain and env references and refuses unknown or unset ones', async () => {
    const resolver = createReferenceSecretResolver({ env: { EVOLUTION_KEY: 'k-123' } });

    expect(await resolver.resolve('plain:abc:def')).toBe('abc:def');
    expect(await resolver.resolve('env:EVOLUTION_KEY')).toBe('k-123');
    await expect(resolver.resolve('env:EVOLUTION_MISSING')).rejects.toThrow(/EVOLUTION_MISSING is not set/);
    await expect(resolver.resolve('vault:x')).rejects.toThrow(/vault/);
    await expect(resolver.resolve('ssm:/a')).rejects.toThrow(/ssm/);
  });
});

describe('env: allow-list', () => {
  const env = {
    EVOLUTION_API_KEY: 'evo',
    AWS_SESSION_TOKEN: 'session',
    AWS_SECRET_ACCESS_KEY: 'secret',
    DATABASE_PASSWORD: 'db',
    ACME_EVOLUTION_KEY: 'acme',
  };
  const cases = [
    { prefixes: undefined, name: 'EVOLUTION_API_KEY', resolves: 'evo' },
    { prefixes: undefined, name: 'AWS_SESSION_TOKEN', resolves: undefined },
    { prefixes: undefined, name: 'AWS_SECRET_ACCESS_KEY', resolves: undefined },
    { prefixes: undefined, name: 'DATABASE_PASSWORD', resolves: undefined },
    { prefixes: undefined, name: 'ACME_EVOLUTION_KEY', resolves: undefined },
    { prefixes: ['EVOLUTION_', 'ACME_'], name: 'ACME_EVOLUTION_KEY', resolves: 'acme' },
    { prefixes: ['ACME_'], name: 'EVOLUTION_API_KEY', resolves: undefined },
    { prefixes: [''], name: 'DATABASE_PASSWORD', resolves: undefined },
  ];

  for (const c of cases) {
    it(`${c.resolves ? 'resolves' : 'refuses'} env:${c.name} with prefixes ${JSON.stringify(c.prefixes ?? 'default')}`, async () => {
      // Prepare
      const resolver = createReferenceSecretResolver({ env, envPrefixes: c.prefixes });
      // Act
      const resolved = resolver.resolve(`env:${c.name}`);
      // Assess
      if (c.resolves) await expect(resolved).resolves.toBe(c.resolves);
      else await expect(resolved).rejects.toThrow(/is not allowed/);
    });
  }

  it('refuses a configured prefix that reaches the AWS_ variables', () => {
    // Act
    const load = (prefixes: string) => () => loadConfig({ CREDENTIAL_ENV_PREFIXES: prefixes });
    // Assess
    expect(load('EVOLUTION_,AWS')).toThrow(
      /CREDENTIAL_ENV_PREFIXES: a prefix may not match the AWS_ variables/,
    );
    expect(load('A')).toThrow(/CREDENTIAL_ENV_PREFIXES/);
    expect(loadConfig({ CREDENTIAL_ENV_PREFIXES: 'EVOLUTION_, ACME_' }).CREDENTIAL_ENV_PREFIXES).toEqual([
      'EVOLUTION_',
      'ACME_',
    ]);
    expect(loadConfig({}).CREDENTIAL_ENV_PREFIXES).toEqual(['EVOLUTION_']);
  });
});

describe('createSsmParameterReader', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());

  it('asks for the decrypted parameter and caches it for a few minutes', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'secret-value' } });
    let now = 0;
    const read = createSsmParameterReader(new SSMClient({ region: 'us-east-1' }), () => now);

    const first = await read('/billing/prod/evo');
    const second = await read('/billing/prod/evo');
    now = 6 * 60_000;
    await read('/billing/prod/evo');

    expect(first).toBe('secret-value');
    expect(second).toBe('secret-value');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/billing/prod/evo',
      WithDecryption: true,
    });
  });
});
