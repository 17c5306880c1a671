import { ssmPrefix } from './stage.ts';

/**
 * Deploy-time secrets: set with `npx sst secret set <name> <value> --stage <stage>`, stored encrypted
 * by SST, never in code or in a function's plain environment. The functions do not use SST's `Resource`
 * SDK (the `sst` package is not a dependency), so each secret is mirrored into an SSM SecureString
 * under the stage's prefix, where lib/ports/secrets.ts resolves `ssm:/...` credential references.
 *
 * Per-tenant Evolution keys are added the same way by an operator (aws ssm put-parameter under the
 * same prefix) and referenced by the instance (`--credential ssm:<prefix><name>`). Callback signing
 * secrets and instance webhook secrets are generated per API key / instance and live in the table.
 */
const SECRETS = [
  {
    name: 'EvolutionApiKey',
    parameter: 'evolution-api-key',
    description: 'Global API key of the Evolution server (instances reference it as ssm:<this name>)',
  },
] as const;

/** The SSM parameters holding the secrets, by SST secret name. */
export const secretParameters = Object.fromEntries(
  SECRETS.map(({ name, parameter, description }) => {
    const secret = new sst.Secret(name);
    const ssmParameter = new aws.ssm.Parameter(`${name}Parameter`, {
      name: `${ssmPrefix}${parameter}`,
      type: 'SecureString',
      value: secret.value,
      description,
    });
    return [name, ssmParameter];
  }),
);

/**
 * Read access to every parameter under the stage's prefix (SST's own secrets and the ones operators
 * add for tenants), granted only to functions that resolve gateway credentials (infra/runtime.ts
 * `readsGatewayCredentials`). SecureStrings use the AWS-managed `aws/ssm` key, usable by any
 * principal of the account through SSM, so no KMS statement is needed.
 */
export const secretReadPermission = {
  actions: ['ssm:GetParameter'],
  resources: [`arn:aws:ssm:*:*:parameter${ssmPrefix}*`],
};
