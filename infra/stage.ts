/**
 * What differs between stages. A production stage keeps its data through mistakes: deletion
 * protection on the table, resources retained when the stage is removed (sst.config.ts `app()`
 * keeps its own copy of PRODUCTION_STAGES: SST evaluates `app()` before any import can run).
 */
export const PRODUCTION_STAGES: readonly string[] = ['production', 'prod'];

export const isProduction = PRODUCTION_STAGES.includes($app.stage);

/** `billing-reminders-<stage>`: the prefix of names we choose ourselves (schedule group, parameters). */
export const resourcePrefix = `${$app.name}-${$app.stage}`;

/**
 * Prefix of this stage's SSM parameters: the secrets mirrored from SST and the per-instance Evolution
 * credentials an operator adds by hand. Instances reference them as `ssm:<prefix><name>`.
 */
export const ssmPrefix = `/${$app.name}/${$app.stage}/`;

/** Log retention of functions and access logs: long enough to investigate a month-end dispute in production. */
export const logRetention = isProduction ? '3 months' : '1 week';

/**
 * Optional e-mail that receives alarm notifications, read at deploy time (`BILLING_ALARM_EMAIL=ops@example.com
 * npx sst deploy`, or a `.env` file SST loads). Not a secret: an address, and AWS asks it to confirm.
 */
export const alarmEmail = process.env.BILLING_ALARM_EMAIL?.trim() || undefined;

/**
 * Insecure callbacks (http, loopback and private addresses; lib/domain/callback-url.ts) are for a
 * developer's own stage: `BILLING_ALLOW_INSECURE_CALLBACKS=true npx sst deploy --stage dev-alice`.
 * A production stage refuses to deploy with it, and its functions refuse to start with it
 * (lib/config.ts, PRODUCTION_STAGE).
 */
export const allowInsecureCallbacks = process.env.BILLING_ALLOW_INSECURE_CALLBACKS?.trim() === 'true';
if (allowInsecureCallbacks && isProduction) {
  throw new Error(
    `BILLING_ALLOW_INSECURE_CALLBACKS is for development stages only; stage ${$app.stage} is a production stage`,
  );
}
