import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceSecretResolver } from '../../lib/adapters/secrets/reference-secret-resolver.ts';
import { createSsmParameterReader } from '../../lib/adapters/secrets/ssm-parameter-reader.ts';

describe('createReferenceSecretResolver', () => {
  it('resolves plain and env references and refuses unknown or unset ones', async () => {
    const resolver = createReferenceSecretResolver({ env: { EVO_KEY: 'k-123' } });

    expect(await resolver.resolve('plain:abc:def')).toBe('abc:def');
    expect(await resolver.resolve('env:EVO_KEY')).toBe('k-123');
    await expect(resolver.resolve('env:MISSING')).rejects.toThrow(/MISSING/);
    await expect(resolver.resolve('vault:x')).rejects.toThrow(/vault/);
    await expect(resolver.resolve('ssm:/a')).rejects.toThrow(/ssm/);
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
