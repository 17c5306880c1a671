import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** How long a parameter is kept in memory: a rotated key reaches warm Lambdas within this. */
const CACHE_MS = 5 * 60_000;

/**
 * Reads SecureString parameters (decrypted) for `ssm:/path` credential references, caching each
 * for a few minutes so a busy sender does not call SSM once per message.
 */
export const createSsmParameterReader = (client: SSMClient, now: () => number = Date.now) => {
  const cache = new Map<string, { value: string; until: number }>();
  return async (name: string): Promise<string> => {
    const hit = cache.get(name);
    if (hit && hit.until > now()) return hit.value;
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (!value) throw new Error(`SSM parameter ${name} has no value`);
    cache.set(name, { value, until: now() + CACHE_MS });
    return value;
  };
};
