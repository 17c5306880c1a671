import type { SecretResolver } from '../../ports/secrets.ts';

/** The `env:` names a credential may read by default: the Evolution settings, nothing else. */
export const DEFAULT_CREDENTIAL_ENV_PREFIXES: readonly string[] = ['EVOLUTION_'];

/**
 * Resolves `plain:` and `env:` references from the environment given by the composition root
 * (never read here). `ssm:` needs a parameter store client and is resolved by `ssm` when given.
 * An `env:` reference reads only a variable whose name starts with one of `envPrefixes` (default
 * `EVOLUTION_`): an instance's credential must not be able to name `AWS_SESSION_TOKEN` or any other
 * variable of the process and have it sent to a gateway URL the tenant chose.
 */
export const createReferenceSecretResolver = (options: {
  env: Readonly<Record<string, string | undefined>>;
  envPrefixes?: readonly string[];
  ssm?: (name: string) => Promise<string>;
}): SecretResolver => {
  const prefixes = options.envPrefixes ?? DEFAULT_CREDENTIAL_ENV_PREFIXES;
  return {
    resolve: async (reference) => {
      const [scheme, ...rest] = reference.split(':');
      const value = rest.join(':');
      if (scheme === 'plain' && value) return value;
      if (scheme === 'env' && value) {
        if (!prefixes.some((prefix) => prefix !== '' && value.startsWith(prefix))) {
          throw new Error(
            `credential env:${value} is not allowed (allowed prefixes: ${prefixes.join(', ')})`,
          );
        }
        const secret = options.env[value];
        if (!secret) throw new Error(`credential env:${value} is not set`);
        return secret;
      }
      if (scheme === 'ssm' && value && options.ssm) return options.ssm(value);
      throw new Error(`unsupported credential reference scheme: ${scheme}`);
    },
  };
};
