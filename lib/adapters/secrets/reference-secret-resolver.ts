import type { SecretResolver } from '../../ports/secrets.ts';

/**
 * Resolves `plain:` and `env:` references from the environment given by the composition root
 * (never read here). `ssm:` needs a parameter store client and is resolved by `ssm` when given.
 */
export const createReferenceSecretResolver = (options: {
  env: Readonly<Record<string, string | undefined>>;
  ssm?: (name: string) => Promise<string>;
}): SecretResolver => ({
  resolve: async (reference) => {
    const [scheme, ...rest] = reference.split(':');
    const value = rest.join(':');
    if (scheme === 'plain' && value) return value;
    if (scheme === 'env' && value) {
      const secret = options.env[value];
      if (!secret) throw new Error(`credential env:${value} is not set`);
      return secret;
    }
    if (scheme === 'ssm' && value && options.ssm) return options.ssm(value);
    throw new Error(`unsupported credential reference scheme: ${scheme}`);
  },
});
