import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { vi } from 'vitest';
import type * as SenderLimitsModule from '../../infra/sender-limits.ts';
import { TTL_ATTRIBUTE, tableDefinition } from '../../lib/adapters/store/table-schema.ts';
import { EVENTBRIDGE_SCHEDULER_KEYS } from '../../lib/config.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { DEPLOYED_OPERATIONS } from '../../lib/http/routes/index.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';
import type { Dependency } from '../../lib/ports/metrics.ts';
import { type Declared, installSstFake, resolveOutputs, type SstFake, toSeconds } from './sst-fake.ts';

/**
 * The settings the AWS deployment depends on, each as a named check over a synthesized infra
 * (sst.config.ts + infra/ run against the recording fake of test/support/sst-fake.ts). A check
 * returns nothing when the setting holds and throws an Error naming the problem when it does not,
 * so test/unit/infra-synth.test.ts can show both: the real infra passes, a broken copy fails.
 */

/**
 * Paths held in variables, so `tsc` does not follow them into files typed by SST's globals (the
 * vitest mocker resolves absolute paths the same way from any file).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SST_CONFIG = `${ROOT}sst.config.ts`;
const SENDER_LIMITS = `${ROOT}infra/sender-limits.ts`;

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
/** The URLs the fake gives the API and the dashboard's static site (nothing is deployed). */
const FAKE_URLS = {
  api: `https://api.execute-api.${REGION}.amazonaws.com`,
  dashboardSite: 'https://dashboardsite.cloudfront.net',
} as const;

/** What `app()` of sst.config.ts returns. */
export interface AppConfig {
  name: string;
  home: string;
  removal: string;
  protect: boolean;
}

interface SstConfigModule {
  app(input: { stage: string }): AppConfig;
  run(): Promise<Record<string, unknown>>;
}

/** One synthesized stage: everything the fake recorded, the app config and run()'s outputs. */
export interface Synth {
  fake: SstFake;
  app: AppConfig;
  outputs: Record<string, unknown>;
}

/** A guard over a synthesized stage: throws an Error naming the problem, returns nothing when it holds. */
export type InfraCheck = (synth: Synth) => void;

/** The constants of infra/sender-limits.ts (all numbers, widened from their literal types). */
export type SenderLimits = { readonly [K in keyof typeof SenderLimitsModule]: number };

export interface SynthOptions {
  /** Replaces constants of infra/sender-limits.ts, computed from the real ones, for this synth only. */
  senderLimits?: (real: SenderLimits) => Partial<SenderLimits>;
}

/** Runs sst.config.ts (app() and run()) against a fresh fake for `stage` and a fresh module graph. */
export const synthesizeInfra = async (stage: string, options: SynthOptions = {}): Promise<Synth> => {
  vi.resetModules();
  const { senderLimits } = options;
  if (senderLimits) {
    vi.doMock(SENDER_LIMITS, async (importOriginal) => {
      const real = await importOriginal<SenderLimits>();
      return { ...real, ...senderLimits(real) };
    });
  }
  const fake = installSstFake({ stage });
  try {
    const config = ((await import(SST_CONFIG)) as { default: SstConfigModule }).default;
    const app = config.app({ stage });
    fake.app.name = app.name;
    const outputs = resolveOutputs(await config.run()) as Record<string, unknown>;
    return { fake, app, outputs };
  } finally {
    fake.uninstall();
    if (senderLimits) vi.doUnmock(SENDER_LIMITS);
  }
};

/**
 * A copy of `synth` whose recorded declarations are `edit`'s result; the original is left as it
 * was. Breaks a setting after the fact, without touching any product file.
 */
export const withDeclarations = (
  synth: Synth,
  edit: (declared: readonly Declared[]) => Declared[],
): Synth => {
  const declared = edit(synth.fake.declared);
  const fake: SstFake = {
    app: { ...synth.fake.app },
    declared,
    ofType: (type) => declared.filter((d) => d.type === type),
    one: (type, name) => {
      const found = declared.find((d) => d.type === type && d.name === name);
      if (!found) throw new Error(`No ${type} named "${name}" was declared`);
      return found;
    },
    uninstall: () => undefined,
  };
  return { ...synth, fake };
};

/**
 * A copy of `synth` in which the recorded arguments of one declaration were changed by `mutate`
 * (it receives a resolved deep copy and edits it in place).
 */
export const withRecordedArgs = (
  synth: Synth,
  type: string,
  name: string,
  mutate: (args: Data) => void,
): Synth => {
  synth.fake.one(type, name);
  return withDeclarations(synth, (declared) =>
    declared.map((d) => {
      if (d.type !== type || d.name !== name) return d;
      const args = resolveOutputs(d.args) as Data;
      mutate(args);
      return { ...d, args };
    }),
  );
};

// Loosely typed views of recorded (resolved) arguments: the checks read what SST would receive.
// biome-ignore lint/suspicious/noExplicitAny: recorded arguments are untyped data whose shape the checks test.
export type Data = Record<string, any>;

/** The recorded arguments of a declaration, with every fake Output replaced by its value. */
export const argsOf = (declared: Declared): Data => resolveOutputs(declared.args) as Data;

/** The physical name SST gives a component of this stage (`app-stage-Component`). */
export const physicalName = (synth: Synth, component: string) =>
  `${synth.app.name}-${synth.fake.app.stage}-${component}`;

/** The `aws.sqs.Queue` arguments of an `sst.aws.Queue` component. */
export const queueArgs = (synth: Synth, component: string): Data =>
  argsOf(synth.fake.one('aws.sqs.Queue', `${component}Queue`));

/** The ARN of a standard queue component (a FIFO queue's adds `.fifo`). */
export const queueArn = (synth: Synth, component: string) =>
  `arn:aws:sqs:${REGION}:${ACCOUNT}:${physicalName(synth, component)}`;

/** The URL of a queue component (`WorkQueue.fifo` for the FIFO one). */
export const queueUrl = (synth: Synth, queueName: string) =>
  `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physicalName(synth, queueName)}`;

/** The ARN of a function component. */
export const functionArn = (synth: Synth, component: string) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physicalName(synth, component)}`;

/** The sender's function arguments (the work queue's subscriber). */
export const senderArgs = (synth: Synth): Data =>
  argsOf(synth.fake.one('sst.aws.Function', 'WorkQueueSubscriberFunction'));

/** The event source mapping that feeds the sender from the work queue. */
export const senderMappingArgs = (synth: Synth): Data =>
  argsOf(synth.fake.one('aws.lambda.EventSourceMapping', 'WorkQueueSubscriberEventSourceMapping'));

const functionsOf = (synth: Synth) => synth.fake.ofType('sst.aws.Function');
const alarmsOf = (synth: Synth) => synth.fake.ofType('aws.cloudwatch.MetricAlarm').map(argsOf);
const show = (value: unknown) => JSON.stringify(value);

function need(condition: unknown, problem: string): asserts condition {
  if (!condition) throw new Error(problem);
}

/** Throws naming what is missing from and what is extra in `actual` against `expected`. */
const needSameSet = (actual: readonly string[], expected: readonly string[], what: string) => {
  const missing = expected.filter((e) => !actual.includes(e));
  const extra = actual.filter((a) => !expected.includes(a));
  need(
    missing.length === 0 && extra.length === 0 && actual.length === expected.length,
    `${what}: missing ${show(missing)}, unexpected ${show(extra)}`,
  );
};

/** Receives before a work item is dead-lettered: fewer and a throttle or two dead-letter healthy work. */
export const MIN_WORK_QUEUE_RECEIVES = 5;

/** AWS's advice for SQS event sources: visibility at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The event source mapping accepts a maximumConcurrency of 2..1000. */
export const MAPPING_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;

/** lib/lambda/sender-handler.ts keeps this much of the Lambda timeout back; read from its source to stay in step. */
export const senderSafetyMarginSeconds = (): number => {
  const source = readFileSync(`${ROOT}lib/lambda/sender-handler.ts`, 'utf8');
  const match = /SAFETY_MARGIN_MS = ([\d_]+)/.exec(source);
  if (!match?.[1]) throw new Error('SAFETY_MARGIN_MS not found in lib/lambda/sender-handler.ts');
  return Number(match[1].replaceAll('_', '')) / 1000;
};

const keyOf = (schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined, type: string) =>
  (schema ?? []).find((k) => k.KeyType === type)?.AttributeName;

/** The one table has the keys, attributes, indexes and TTL attribute of lib/adapters/store/table-schema.ts. */
export const checkTableMatchesSchema: InfraCheck = (synth) => {
  const tables = synth.fake.ofType('aws.dynamodb.Table');
  need(tables.length === 1, `expected one DynamoDB table, found ${tables.length}`);
  const expected = tableDefinition('any');
  const table = argsOf(synth.fake.one('aws.dynamodb.Table', 'TableTable'));
  const against = (setting: string, actual: unknown, wanted: unknown) =>
    need(
      isDeepStrictEqual(actual, wanted),
      `table ${setting} is ${show(actual)}, table-schema.ts says ${show(wanted)}`,
    );
  against('billingMode', table.billingMode, expected.BillingMode);
  against('hashKey', table.hashKey, keyOf(expected.KeySchema, 'HASH'));
  against('rangeKey', table.rangeKey, keyOf(expected.KeySchema, 'RANGE'));
  against(
    'attributes',
    table.attributes,
    (expected.AttributeDefinitions ?? []).map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
  );
  against(
    'globalSecondaryIndexes',
    table.globalSecondaryIndexes,
    (expected.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      hashKey: keyOf(index.KeySchema, 'HASH'),
      rangeKey: keyOf(index.KeySchema, 'RANGE'),
      projectionType: index.Projection?.ProjectionType,
    })),
  );
  against('ttl', table.ttl, { attributeName: TTL_ATTRIBUTE, enabled: true });
};

/** Point-in-time recovery is on, and deletion protection is on exactly when the stage is protected (production). */
export const checkTableRecovery: InfraCheck = (synth) => {
  const table = argsOf(synth.fake.one('aws.dynamodb.Table', 'TableTable'));
  need(
    isDeepStrictEqual(table.pointInTimeRecovery, { enabled: true }),
    `table pointInTimeRecovery is ${show(table.pointInTimeRecovery)}, not { enabled: true }`,
  );
  need(
    table.deletionProtectionEnabled === synth.app.protect,
    `table deletionProtectionEnabled is ${show(table.deletionProtectionEnabled)} on stage ${synth.fake.app.stage}, whose app protect is ${synth.app.protect}`,
  );
};

/** The work queue is FIFO without content-based deduplication, dead-lettering to a FIFO queue after enough receives. */
export const checkFifoWorkQueue: InfraCheck = (synth) => {
  const work = queueArgs(synth, 'WorkQueue');
  const dlq = queueArgs(synth, 'WorkDeadLetterQueue');
  need(work.fifoQueue === true, `work queue fifoQueue is ${show(work.fifoQueue)}, not true`);
  need(
    (work.contentBasedDeduplication ?? false) === false,
    'work queue has content-based deduplication: the adapter sets deduplication ids itself',
  );
  need(dlq.fifoQueue === true, `work dead-letter queue fifoQueue is ${show(dlq.fifoQueue)}, not true`);
  need(typeof work.redrivePolicy === 'string', 'work queue has no redrive policy (no dead-letter queue)');
  const redrive = JSON.parse(work.redrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number };
  const dlqArn = `${queueArn(synth, 'WorkDeadLetterQueue')}.fifo`;
  need(
    redrive.deadLetterTargetArn === dlqArn,
    `work queue dead-letters to ${redrive.deadLetterTargetArn}, not ${dlqArn}`,
  );
  need(
    redrive.maxReceiveCount >= MIN_WORK_QUEUE_RECEIVES,
    `work queue maxReceiveCount is ${redrive.maxReceiveCount}, below ${MIN_WORK_QUEUE_RECEIVES}`,
  );
};

/** The work queue's visibility timeout is at least six times the sender's timeout. */
export const checkVisibilityVsTimeout: InfraCheck = (synth) => {
  const visibility = queueArgs(synth, 'WorkQueue').visibilityTimeoutSeconds as number;
  const timeout = toSeconds(senderArgs(synth).timeout);
  need(
    visibility >= VISIBILITY_TIMEOUT_FACTOR * timeout,
    `work queue visibility timeout ${visibility} s is below ${VISIBILITY_TIMEOUT_FACTOR} x the sender timeout (${timeout} s)`,
  );
};

/** The callbacks go through a standard queue with its own dead-letter queue. */
export const checkCallbackQueue: InfraCheck = (synth) => {
  const callbacks = queueArgs(synth, 'CallbackQueue');
  need(callbacks.fifoQueue === false, `callback queue fifoQueue is ${show(callbacks.fifoQueue)}, not false`);
  need(
    typeof callbacks.redrivePolicy === 'string',
    'callback queue has no redrive policy (no dead-letter queue)',
  );
  const redrive = JSON.parse(callbacks.redrivePolicy) as {
    deadLetterTargetArn: string;
    maxReceiveCount: number;
  };
  const dlqArn = queueArn(synth, 'CallbackDeadLetterQueue');
  need(
    redrive.deadLetterTargetArn === dlqArn,
    `callback queue dead-letters to ${redrive.deadLetterTargetArn}, not ${dlqArn}`,
  );
  need(redrive.maxReceiveCount >= 1, `callback queue maxReceiveCount is ${redrive.maxReceiveCount}`);
};

/**
 * Evolution posts to the webhook function's own URL (`instance webhook --url <evolutionWebhook>`):
 * public (the instance's secret authenticates each post), no CORS (server to server), and, with no
 * API Gateway throttle in front of it, a reserved concurrency as its throttle; run() returns its URL.
 */
export const checkWebhookFunctionUrl: InfraCheck = (synth) => {
  const [webhook, ...others] = synth.fake
    .ofType('sst.aws.Function')
    .filter((f) => argsOf(f).handler === 'functions/evolution-webhook.handler');
  need(webhook !== undefined && others.length === 0, 'no single function serves functions/evolution-webhook');
  const args = argsOf(webhook);
  const url = resolveOutputs(args.url) as { authorization?: string; cors?: unknown } | boolean | undefined;
  need(
    typeof url === 'object',
    `the webhook function's url is ${show(url)}, not a function URL without CORS`,
  );
  need(
    (url.authorization ?? 'none') === 'none',
    `the webhook function URL asks for ${show(url.authorization)} authorization, which Evolution cannot sign`,
  );
  need(url.cors === false, `the webhook function URL allows CORS: ${show(url.cors)}`);
  const reserved = args.concurrency?.reserved;
  need(
    typeof reserved === 'number' && reserved >= 1,
    `the webhook function has no reserved concurrency (its only throttle): ${show(args.concurrency)}`,
  );
  const expected = `https://${physicalName(synth, webhook.name).toLowerCase()}.lambda-url.${REGION}.on.aws/`;
  need(
    synth.outputs.evolutionWebhook === expected,
    `run() returns evolutionWebhook ${show(synth.outputs.evolutionWebhook)}, not the webhook function's URL`,
  );
};

/** functions/sender.ts consumes the work queue, one work item per invocation. */
export const checkSenderSubscription: InfraCheck = (synth) => {
  const mapping = senderMappingArgs(synth);
  const workArn = `${queueArn(synth, 'WorkQueue')}.fifo`;
  need(
    mapping.eventSourceArn === workArn,
    `sender reads ${mapping.eventSourceArn}, not the work queue ${workArn}`,
  );
  // Several instances per invocation (one pump each), and no more than an SQS FIFO source hands over.
  const batchSize = Number(mapping.batchSize);
  need(
    batchSize >= 2 && batchSize <= 10,
    `sender batch size is ${show(mapping.batchSize)}, not 2..10 (several instances' pumps per invocation, FIFO's limit)`,
  );
  const handler = senderArgs(synth).handler;
  need(
    handler === 'functions/sender.handler',
    `work queue subscriber runs ${handler}, not functions/sender.handler`,
  );
};

/** Every SQS event source mapping reports batch item failures, so a failed record alone comes back. */
export const checkPartialBatchResponses: InfraCheck = (synth) => {
  const mappings = synth.fake.ofType('aws.lambda.EventSourceMapping');
  need(mappings.length > 0, 'no event source mapping was declared');
  for (const mapping of mappings) {
    const types = (argsOf(mapping).functionResponseTypes ?? []) as string[];
    need(
      types.includes('ReportBatchItemFailures'),
      `event source mapping ${mapping.name} does not report batch item failures (partialResponses off)`,
    );
  }
};

/** The sender's mapping has a maximumConcurrency (2..1000) no higher than the function's reserved concurrency. */
export const checkConcurrencyCeiling: InfraCheck = (synth) => {
  const maximum = senderMappingArgs(synth).scalingConfig?.maximumConcurrency as number | undefined;
  const reserved = senderArgs(synth).concurrency?.reserved as number | undefined;
  need(
    typeof maximum === 'number' &&
      maximum >= MAPPING_CONCURRENCY_RANGE.min &&
      maximum <= MAPPING_CONCURRENCY_RANGE.max,
    `sender mapping maximumConcurrency is ${show(maximum)}, not within ${MAPPING_CONCURRENCY_RANGE.min}..${MAPPING_CONCURRENCY_RANGE.max}`,
  );
  need(typeof reserved === 'number', 'sender has no reserved concurrency');
  need(
    reserved >= maximum,
    `sender mapping maximumConcurrency ${maximum} is above the sender's reserved concurrency ${reserved}: throttled receives drift to the dead-letter queue`,
  );
};

/** The sender's sending budget leaves the margin lib/lambda/sender-handler.ts keeps back before its timeout. */
export const checkBudgetBelowTimeout: InfraCheck = (synth) => {
  const fn = senderArgs(synth);
  const budget = Number(fn.environment?.SENDER_BUDGET_SECONDS);
  const timeout = toSeconds(fn.timeout);
  const margin = senderSafetyMarginSeconds();
  need(
    budget > 0,
    `sender SENDER_BUDGET_SECONDS is ${show(fn.environment?.SENDER_BUDGET_SECONDS)}, not a positive number`,
  );
  need(
    budget < timeout - margin,
    `sender budget ${budget} s is not below its timeout ${timeout} s minus the ${margin} s margin lib/lambda/sender-handler.ts keeps back`,
  );
};

/**
 * The API routes exactly the operations of the deployed routes (lib/http/routes/index.ts: all but the
 * local-only dashboard), each once under its canonical path, plus `$default` (trailing-slash
 * spellings, unknown paths): no `/x/` route key.
 */
export const checkRoutesMatchRouteTable: InfraCheck = (synth) => {
  const expected = [...DEPLOYED_OPERATIONS.map((r) => `${r.method} ${r.path}`), '$default'];
  const declared = synth.fake.ofType('sst.aws.ApiGatewayV2LambdaRoute').map((r) => argsOf(r).route as string);
  needSameSet(declared, expected, 'API routes differ from the route list and $default');
  const slashed = declared.filter((key) => /.\/$/.test(key));
  need(slashed.length === 0, `API declares trailing-slash route keys ${show(slashed)}`);
};

/** The component name of the function a route's ARN handler points to. */
const routeComponent = (synth: Synth, route: Data) =>
  String(route.handler).split(':function:')[1]?.slice(`${synth.app.name}-${synth.fake.app.stage}-`.length) ??
  '';

/** Each route reaches the handler of its functions/<fn>.ts entry point, which exists; `$default` the trailing-slash one. */
export const checkRouteHandlers: InfraCheck = (synth) => {
  const routes = synth.fake.ofType('sst.aws.ApiGatewayV2LambdaRoute').map(argsOf);
  const expected = [
    ...DEPLOYED_OPERATIONS.map((spec) => ({ key: `${spec.method} ${spec.path}`, entry: spec.route })),
    { key: '$default', entry: 'trailing-slash' },
  ];
  for (const { key, entry } of expected) {
    need(existsSync(`${ROOT}functions/${entry}.ts`), `functions/${entry}.ts does not exist`);
    const route = routes.find((r) => r.route === key);
    need(route, `route ${key} is not declared`);
    const handler = argsOf(synth.fake.one('sst.aws.Function', routeComponent(synth, route))).handler;
    need(
      handler === `functions/${entry}.handler`,
      `route ${key} runs ${handler}, not functions/${entry}.handler`,
    );
  }
};

/** The access-log fields: the route template, status, latency, request id and time; never the raw path. */
export const ACCESS_LOG_FIELDS = ['requestId', 'requestTime', 'routeKey', 'status', 'responseLatency'];

/**
 * The API stage keeps access logs in a format without personal data, a default (ERP) throttle, and
 * separate route-level budgets for the webhook and the public routes.
 */
export const checkApiStage: InfraCheck = (synth) => {
  const stage = argsOf(synth.fake.one('aws.apigatewayv2.Stage', 'ApiStage'));
  const logGroup = argsOf(synth.fake.one('aws.cloudwatch.LogGroup', 'ApiAccessLog'));
  need(stage.accessLogSettings?.destinationArn, 'API stage has no access log destination');
  need(logGroup.retentionInDays > 0, `API access logs retention is ${show(logGroup.retentionInDays)} days`);
  const format = JSON.parse(stage.accessLogSettings.format ?? '{}') as Record<string, string>;
  needSameSet(Object.keys(format), ACCESS_LOG_FIELDS, 'API access log fields');
  const personal = Object.values(format).filter((v) =>
    /\$context\.(path|identity|requestOverride|customDomain)|\$input|\$request/.test(v),
  );
  need(personal.length === 0, `API access log records ${show(personal)}`);
  const positive = (s: Data | undefined) => s?.throttlingBurstLimit > 0 && s?.throttlingRateLimit > 0;
  need(
    positive(stage.defaultRouteSettings),
    `API stage throttle is ${show(stage.defaultRouteSettings)}, not a positive burst and rate limit`,
  );
  const budgets = (stage.routeSettings ?? []) as Data[];
  const webhookKeys = DEPLOYED_OPERATIONS.filter((o) => o.auth === 'webhookSecret').map(
    (o) => `${o.method} ${o.path}`,
  );
  need(webhookKeys.length > 0, 'the route list has no webhook route');
  for (const key of webhookKeys) {
    const budget = budgets.find((b) => b.routeKey === key);
    need(positive(budget), `webhook route ${key} has no budget of its own: ${show(budget)}`);
  }
  for (const budget of budgets) {
    const operation = DEPLOYED_OPERATIONS.find((o) => `${o.method} ${o.path}` === budget.routeKey);
    need(operation, `route settings name ${budget.routeKey}, which is not a route`);
    need(operation.auth !== 'apiKey', `ERP route ${budget.routeKey} leaves the ERP budget`);
  }
};

/** The docs function gets swagger-ui-dist installed next to it: it reads that package's files at run time. */
export const checkDocsInstallsSwaggerUi: InfraCheck = (synth) => {
  const docs = argsOf(synth.fake.one('sst.aws.Function', 'ApiDocs'));
  const install = (docs.nodejs?.install ?? []) as string[];
  need(install.includes('swagger-ui-dist'), `docs function installs ${show(install)}, not swagger-ui-dist`);
};

/**
 * Every function runs Node 22 on arm64 from an existing file, with the table and work queue in its
 * environment and an explicit scheduler driver (eventbridge with its four settings, or none).
 */
export const checkFunctionRuntime: InfraCheck = (synth) => {
  const all = functionsOf(synth).map(argsOf);
  need(all.length > 3, `only ${all.length} functions were declared`);
  const tableName = physicalName(synth, 'Table');
  const workQueueUrl = queueUrl(synth, 'WorkQueue.fifo');
  for (const fn of all) {
    need(fn.runtime === 'nodejs22.x', `${fn.handler} runs ${show(fn.runtime)}, not nodejs22.x`);
    need(fn.architecture === 'arm64', `${fn.handler} runs on ${show(fn.architecture)}, not arm64`);
    need(
      fn.environment?.TABLE_NAME === tableName,
      `${fn.handler} has TABLE_NAME ${show(fn.environment?.TABLE_NAME)}`,
    );
    need(
      fn.environment?.WORK_QUEUE_URL === workQueueUrl,
      `${fn.handler} has WORK_QUEUE_URL ${show(fn.environment?.WORK_QUEUE_URL)}`,
    );
    // No silent scheduler fallback: each function names its driver, and `eventbridge` has its settings.
    const driver = fn.environment?.SCHEDULER_DRIVER;
    need(
      driver === 'none' || driver === 'eventbridge',
      `${fn.handler} has SCHEDULER_DRIVER ${show(driver)}, not eventbridge or none`,
    );
    if (driver === 'eventbridge') {
      const missing = EVENTBRIDGE_SCHEDULER_KEYS.filter((key) => !fn.environment?.[key]);
      need(
        missing.length === 0,
        `${fn.handler} uses the eventbridge scheduler without ${missing.join(', ')}`,
      );
    }
    const file = String(fn.handler).replace(/\.handler$/, '.ts');
    need(existsSync(`${ROOT}${file}`), `${file} (handler ${fn.handler}) does not exist`);
  }
};

/** No function environment carries a secret's value; the Evolution key is mirrored to an SSM SecureString. */
export const checkNoSecretInEnvironment: InfraCheck = (synth) => {
  need(synth.fake.ofType('sst.Secret').length > 0, 'no sst.Secret was declared');
  const parameter = argsOf(synth.fake.one('aws.ssm.Parameter', 'EvolutionApiKeyParameter'));
  need(
    parameter.type === 'SecureString',
    `EvolutionApiKey parameter is a ${show(parameter.type)}, not a SecureString`,
  );
  need(
    parameter.value === 'secret-value-of-EvolutionApiKey',
    `EvolutionApiKey parameter holds ${show(parameter.value)}, not the secret's value`,
  );
  for (const fn of functionsOf(synth)) {
    need(
      !JSON.stringify(argsOf(fn).environment).includes('secret-value-of-'),
      `function ${fn.name} has a secret value in its environment`,
    );
  }
};

/** The sweeper and the callback deliverer run every minute. */
export const checkCrons: InfraCheck = (synth) => {
  const jobs = {
    Sweeper: 'functions/sweeper.handler',
    CallbackDeliverer: 'functions/callback-deliverer.handler',
  };
  for (const [name, handler] of Object.entries(jobs)) {
    const cron = argsOf(synth.fake.one('sst.aws.Cron', name));
    need(
      cron.schedule === 'rate(1 minute)',
      `cron ${name} runs on ${show(cron.schedule)}, not rate(1 minute)`,
    );
    const job = typeof cron.job === 'string' ? cron.job : cron.job?.handler;
    need(job === handler, `cron ${name} runs ${show(job)}, not ${handler}`);
  }
};

/** Every entry point of functions/ is deployed as some function's handler. */
export const checkEveryEntryPointDeployed: InfraCheck = (synth) => {
  const handlers = new Set(functionsOf(synth).map((f) => argsOf(f).handler as string));
  const missing = readdirSync(`${ROOT}functions`)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `functions/${f.replace(/\.ts$/, '')}.handler`)
    .filter((handler) => !handlers.has(handler));
  need(missing.length === 0, `entry points not deployed: ${missing.join(', ')}`);
};

/** EventBridge Scheduler may invoke the release function, whose failures go to a DLQ; the sender knows both. */
export const checkReleaseScheduling: InfraCheck = (synth) => {
  const releaseArn = functionArn(synth, 'Release');
  const dlqArn = queueArn(synth, 'ReleaseDeadLetterQueue');
  const release = argsOf(synth.fake.one('sst.aws.Function', 'Release'));
  need(release.handler === 'functions/release.handler', `Release runs ${release.handler}`);
  need(synth.fake.ofType('aws.scheduler.ScheduleGroup').length === 1, 'expected one schedule group');
  const role = argsOf(synth.fake.one('aws.iam.Role', 'SchedulerRole'));
  const principal = JSON.parse(role.assumeRolePolicy).Statement?.[0]?.Principal?.Service;
  need(principal === 'scheduler.amazonaws.com', `scheduler role trusts ${show(principal)}`);
  const statements = (JSON.parse(role.inlinePolicies?.[0]?.policy ?? '{}').Statement ?? []) as Data[];
  need(
    statements.some(
      (s) =>
        s.Action === 'lambda:InvokeFunction' && ([] as unknown[]).concat(s.Resource).includes(releaseArn),
    ),
    `scheduler role may not invoke ${releaseArn}`,
  );
  const invokeConfig = argsOf(synth.fake.one('aws.lambda.FunctionEventInvokeConfig', 'ReleaseInvokeConfig'));
  const destination = invokeConfig.destinationConfig?.onFailure?.destination;
  need(destination === dlqArn, `release failures go to ${show(destination)}, not ${dlqArn}`);
  const env = senderArgs(synth).environment ?? {};
  need(
    env.SCHEDULER_TARGET_ARN === releaseArn && env.SCHEDULER_DLQ_ARN === dlqArn,
    `sender schedules ${show(env.SCHEDULER_TARGET_ARN)} with DLQ ${show(env.SCHEDULER_DLQ_ARN)}`,
  );
};

/** The failure-rate alarm divides failed by sent + failed (metric-names.ts), with a minimum sample, 3 of 5 periods. */
export const checkFailureRateAlarm: InfraCheck = (synth) => {
  const alarm = argsOf(synth.fake.one('aws.cloudwatch.MetricAlarm', 'FailureRateAlarm'));
  const queries = (alarm.metricQueries ?? []) as Data[];
  const metrics = queries.filter((q) => q.metric).map((q) => q.metric as Data);
  needSameSet(
    metrics.map((m) => m.metricName),
    [METRIC.failed, METRIC.sent],
    'failure rate alarm metrics differ from MessagesSent and MessagesFailed',
  );
  for (const m of metrics) {
    need(m.namespace === METRICS_NAMESPACE, `failure rate alarm reads ${m.metricName} from ${m.namespace}`);
  }
  need(
    alarm.evaluationPeriods === 5 && alarm.datapointsToAlarm === 3,
    `failure rate alarm fires on ${alarm.datapointsToAlarm} of ${alarm.evaluationPeriods} periods, not 3 of 5`,
  );
  const expression = String(queries.find((q) => q.returnData)?.expression);
  need(
    expression.includes('FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0))'),
    `failure rate expression ${expression} is not failed / (sent + failed)`,
  );
  // A minimum sample: too few sends count as no breach.
  need(/^IF\(\(.+\) >= \d+,/.test(expression), `failure rate expression ${expression} has no minimum sample`);
};

/**
 * The stalled-deliveries alarm divides stalled by sent + stalled (metric-names.ts), with a minimum
 * sample, over periods no shorter than the default delivery timeout (a send is found stalled that
 * long after it went out, so a shorter period compares stalls with unrelated sends).
 */
export const checkStalledDeliveriesAlarm: InfraCheck = (synth) => {
  const alarm = argsOf(synth.fake.one('aws.cloudwatch.MetricAlarm', 'StalledDeliveriesAlarm'));
  const queries = (alarm.metricQueries ?? []) as Data[];
  const metrics = queries.filter((q) => q.metric).map((q) => q.metric as Data);
  needSameSet(
    metrics.map((m) => m.metricName),
    [METRIC.stalled, METRIC.sent],
    'stalled deliveries alarm metrics differ from MessagesSent and MessagesStalled',
  );
  const timeoutSeconds = DEFAULT_BILLING_CONFIG.deliveryTimeoutMinutes * 60;
  for (const m of metrics) {
    need(m.namespace === METRICS_NAMESPACE, `stalled alarm reads ${m.metricName} from ${m.namespace}`);
    need(
      m.period >= timeoutSeconds,
      `stalled alarm period ${show(m.period)} s is shorter than the delivery timeout (${timeoutSeconds} s)`,
    );
  }
  const expression = String(queries.find((q) => q.returnData)?.expression);
  need(
    expression.includes('FILL(stalled, 0) / (FILL(sent, 0) + FILL(stalled, 0))'),
    `stalled rate expression ${expression} is not stalled / (sent + stalled)`,
  );
  need(/^IF\(\(.+\) >= \d+,/.test(expression), `stalled rate expression ${expression} has no minimum sample`);
};

/** Sustained failures of the store, the work queue and the scheduler each page (issue 17). */
export const checkDependencyAlarms: InfraCheck = (synth) => {
  const alarms = alarmsOf(synth).filter((a) => a.metricName === METRIC.dependencyFailures);
  const dependencies: Dependency[] = ['store', 'work_queue', 'scheduler'];
  needSameSet(
    alarms.map((a) => a.dimensions?.dependency),
    dependencies,
    'dependency alarms do not cover exactly store, work_queue and scheduler',
  );
  for (const a of alarms) {
    need(
      a.namespace === METRICS_NAMESPACE,
      `dependency alarm reads ${METRIC.dependencyFailures} from ${a.namespace}`,
    );
    // The EMF records carry the service dimension beside `dependency` (emf-metrics.ts).
    need(
      typeof a.dimensions?.service === 'string',
      `dependency alarm for ${show(a.dimensions?.dependency)} has no service dimension`,
    );
    need(
      a.datapointsToAlarm >= 2 && a.evaluationPeriods >= a.datapointsToAlarm,
      `dependency alarm for ${show(a.dimensions?.dependency)} pages on a single bad period`,
    );
  }
};

/** Every alarm metric under our namespace is a name of lib/observability/metric-names.ts. */
export const checkAlarmMetricNames: InfraCheck = (synth) => {
  const known: string[] = Object.values(METRIC);
  const ours = alarmsOf(synth)
    .flatMap((a) => [a, ...((a.metricQueries ?? []) as Data[]).map((q) => (q.metric ?? {}) as Data)])
    .filter((m) => m.namespace === METRICS_NAMESPACE);
  need(ours.length > 0, `no alarm reads a ${METRICS_NAMESPACE} metric`);
  for (const m of ours) {
    need(known.includes(m.metricName), `alarm metric ${show(m.metricName)} is not in metric-names.ts`);
  }
};

/** Alarms watch every dead-letter queue, the oldest work item and every function's errors. */
export const checkAlarmCoverage: InfraCheck = (synth) => {
  const redriveTargets = synth.fake
    .ofType('aws.sqs.Queue')
    .map(argsOf)
    .filter((q) => q.redrivePolicy)
    .map((q) => (JSON.parse(q.redrivePolicy) as { deadLetterTargetArn: string }).deadLetterTargetArn);
  const failureDestinations = synth.fake
    .ofType('aws.lambda.FunctionEventInvokeConfig')
    .map((c) => argsOf(c).destinationConfig?.onFailure?.destination as string);
  const deadLetterNames = [...new Set([...redriveTargets, ...failureDestinations])].map(
    (arn) => arn.split(':').at(-1) ?? arn,
  );
  need(deadLetterNames.length === 3, `expected 3 dead-letter queues, found ${show(deadLetterNames)}`);
  const all = alarmsOf(synth);
  const watched = (metric: string, dimension: string) =>
    all.filter((a) => a.metricName === metric).map((a) => a.dimensions?.[dimension] as string);
  needSameSet(
    watched('ApproximateNumberOfMessagesVisible', 'QueueName'),
    deadLetterNames,
    'dead-letter alarms differ from the dead-letter queues',
  );
  needSameSet(
    watched('ApproximateAgeOfOldestMessage', 'QueueName'),
    [physicalName(synth, 'WorkQueue.fifo')],
    'oldest-message alarms differ from the work queue',
  );
  needSameSet(
    watched('Errors', 'FunctionName'),
    functionsOf(synth).map((f) => physicalName(synth, f.name)),
    'Errors alarms differ from the functions',
  );
};

/** There is one alarm topic and every alarm notifies it. */
export const checkAlarmNotifications: InfraCheck = (synth) => {
  const topics = synth.fake.ofType('aws.sns.Topic');
  need(topics.length === 1, `expected one SNS topic, found ${topics.length}`);
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${physicalName(synth, 'AlarmTopic')}`;
  for (const alarm of alarmsOf(synth)) {
    need(
      isDeepStrictEqual(alarm.alarmActions, [topicArn]),
      `alarm "${alarm.alarmDescription}" notifies ${show(alarm.alarmActions)}, not the alarm topic`,
    );
  }
};

/** The dashboard draws sent, failed, delivered (metric-names.ts), the failure rate and the work queue depth. */
export const checkDashboard: InfraCheck = (synth) => {
  const body = JSON.parse(argsOf(synth.fake.one('aws.cloudwatch.Dashboard', 'Dashboard')).dashboardBody);
  const widgets = (body.widgets ?? []) as Data[];
  const rows = widgets.flatMap((w) => (w.properties?.metrics ?? []) as unknown[][]);
  const ours = rows.filter((row) => row[0] === METRICS_NAMESPACE).map((row) => String(row[1]));
  const known: string[] = Object.values(METRIC);
  for (const name of ours)
    need(known.includes(name), `dashboard metric ${show(name)} is not in metric-names.ts`);
  for (const name of [METRIC.sent, METRIC.failed, METRIC.delivered]) {
    need(ours.includes(name), `dashboard does not draw ${name}`);
  }
  need(
    rows.some((row) => typeof (row[0] as Data | undefined)?.expression === 'string'),
    'dashboard draws no expression (the failure rate)',
  );
  const depth = `ApproximateNumberOfMessagesVisible ${physicalName(synth, 'WorkQueue.fifo')}`;
  need(
    rows.some((row) => row[0] === 'AWS/SQS' && `${row[1]} ${row[3]}` === depth),
    'dashboard does not draw the work queue depth',
  );
  for (const w of widgets) {
    need(
      w.properties?.region === REGION,
      `dashboard widget "${w.properties?.title}" is in ${w.properties?.region}`,
    );
  }
};

/** run() returns the API URL, the operator dashboard's URL and the table name an operator needs. */
export const checkRunOutputs: InfraCheck = (synth) => {
  const { api, operatorDashboard, table } = synth.outputs;
  need(
    typeof api === 'string' && api.startsWith('https://'),
    `run() returns api ${show(api)}, not an https URL`,
  );
  need(
    operatorDashboard === FAKE_URLS.dashboardSite,
    `run() returns operatorDashboard ${show(operatorDashboard)}, not the dashboard site's URL`,
  );
  need(table === physicalName(synth, 'Table'), `run() returns table ${show(table)}`);
};

/**
 * The operator dashboard is a static site of dashboard/, never a function: built by `npm run
 * build:dashboard` for the root of its own origin into a folder of its own (the local build in
 * dist/ stays servable by `npm start`), that folder uploaded, VITE_API_URL set to the API's URL,
 * and CloudFront adding the headers its meta-tag policy cannot carry.
 */
export const checkDashboardSite: InfraCheck = (synth) => {
  const site = argsOf(synth.fake.one('sst.aws.StaticSite', 'DashboardSite'));
  need(site.path === 'dashboard', `dashboard site path is ${show(site.path)}, not "dashboard"`);
  const command = String(site.build?.command);
  const outDir = /--outDir (\S+)/.exec(command)?.[1];
  need(
    /^npm run build:dashboard -- /.test(command) && /--base \/(\s|$)/.test(command),
    `dashboard site builds with ${show(command)}, not npm run build:dashboard for the root`,
  );
  need(
    outDir !== undefined && outDir !== 'dist' && site.build?.output === outDir,
    `dashboard site uploads ${show(site.build?.output)}, not its own build folder (${show(outDir)}, apart from dist)`,
  );
  need(
    site.environment?.VITE_API_URL === FAKE_URLS.api,
    `dashboard site is built with VITE_API_URL ${show(site.environment?.VITE_API_URL)}, not the API's URL`,
  );
  const response = argsOf(
    synth.fake.one('aws.cloudfront.Function', 'DashboardSiteCloudfrontFunctionResponse'),
  );
  for (const header of ["frame-ancestors 'none'", 'nosniff', 'no-referrer'])
    need(String(response.code).includes(header), `dashboard site responses lack ${header}`);
  const served = functionsOf(synth).filter((f) => argsOf(f).handler === 'functions/dashboard.handler');
  need(served.length === 0, 'a function serves the dashboard: on AWS it is the static site');
};

/**
 * Browsers may call the API from the dashboard site's origin only, with the headers and methods the
 * dashboard sends, no credentials (the key is a header, never a cookie).
 */
export const checkApiCors: InfraCheck = (synth) => {
  const cors = argsOf(synth.fake.one('aws.apigatewayv2.Api', 'ApiApi')).corsConfiguration as Data;
  need(
    isDeepStrictEqual(cors.allowOrigins, [FAKE_URLS.dashboardSite]),
    `API CORS allows origins ${show(cors.allowOrigins)}, not the dashboard site's only (${FAKE_URLS.dashboardSite})`,
  );
  needSameSet(cors.allowHeaders ?? [], ['content-type', 'x-billing-api-key'], 'API CORS headers');
  needSameSet(cors.allowMethods ?? [], ['GET', 'POST', 'DELETE'], 'API CORS methods');
  need(!cors.allowCredentials, 'API CORS allows credentials');
};

/** One IAM statement as a function's role gets it (SST's FunctionPermissionArgs, resolved). */
export interface Statement {
  actions: string[];
  resources: string[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

/** The IAM statements of a function component (its `permissions`), by component name. */
export const statementsOf = (synth: Synth, component: string): Statement[] =>
  (argsOf(synth.fake.one('sst.aws.Function', component)).permissions ?? []) as Statement[];

/** Every action a function's role is granted, sorted and without repeats. */
export const actionsOf = (synth: Synth, component: string): string[] =>
  [...new Set(statementsOf(synth, component).flatMap((s) => s.actions))].sort();

/**
 * Least privilege holds structurally: no function links a resource (SST's link grants `dynamodb:*`
 * and `sqs:*`), no statement has a wildcard action, `iam:PassRole` only to Scheduler, and DynamoDB
 * actions on the table are item-level only.
 */
export const checkLeastPrivilege: InfraCheck = (synth) => {
  const itemActions = [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ];
  for (const fn of functionsOf(synth)) {
    const args = argsOf(fn);
    need(args.link === undefined, `function ${fn.name} links ${show(args.link)}: link grants every action`);
    for (const statement of (args.permissions ?? []) as Statement[]) {
      for (const action of statement.actions) {
        need(!action.includes('*'), `function ${fn.name} is granted the wildcard action ${action}`);
        need(
          !action.startsWith('dynamodb:') || itemActions.includes(action),
          `function ${fn.name} is granted the table-level action ${action}`,
        );
      }
      if (statement.actions.includes('iam:PassRole')) {
        need(
          isDeepStrictEqual(statement.conditions, [
            { test: 'StringEquals', variable: 'iam:PassedToService', values: ['scheduler.amazonaws.com'] },
          ]),
          `function ${fn.name} may pass its role to any service: ${show(statement.conditions)}`,
        );
      }
    }
  }
};

/** Every check, by name: the whole synthesized infra passes all of them. */
export const INFRA_CHECKS: Readonly<Record<string, InfraCheck>> = {
  checkTableMatchesSchema,
  checkTableRecovery,
  checkFifoWorkQueue,
  checkVisibilityVsTimeout,
  checkCallbackQueue,
  checkSenderSubscription,
  checkPartialBatchResponses,
  checkConcurrencyCeiling,
  checkBudgetBelowTimeout,
  checkRoutesMatchRouteTable,
  checkRouteHandlers,
  checkApiStage,
  checkDocsInstallsSwaggerUi,
  checkFunctionRuntime,
  checkNoSecretInEnvironment,
  checkCrons,
  checkEveryEntryPointDeployed,
  checkReleaseScheduling,
  checkFailureRateAlarm,
  checkStalledDeliveriesAlarm,
  checkDependencyAlarms,
  checkAlarmMetricNames,
  checkAlarmCoverage,
  checkAlarmNotifications,
  checkDashboard,
  checkRunOutputs,
  checkWebhookFunctionUrl,
  checkDashboardSite,
  checkApiCors,
  checkLeastPrivilege,
};
