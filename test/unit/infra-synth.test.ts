import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  actionsOf,
  argsOf,
  checkAlarmCoverage,
  checkAlarmMetricNames,
  checkAlarmNotifications,
  checkApiCors,
  checkApiStage,
  checkBudgetBelowTimeout,
  checkCallbackQueue,
  checkConcurrencyCeiling,
  checkCrons,
  checkDashboard,
  checkDashboardSite,
  checkDependencyAlarms,
  checkDocsInstallsSwaggerUi,
  checkEveryEntryPointDeployed,
  checkFailureRateAlarm,
  checkFifoWorkQueue,
  checkFunctionRuntime,
  checkLeastPrivilege,
  checkNoSecretInEnvironment,
  checkPartialBatchResponses,
  checkReleaseScheduling,
  checkRouteHandlers,
  checkRoutesMatchRouteTable,
  checkRunOutputs,
  checkSenderSubscription,
  checkStalledDeliveriesAlarm,
  checkTableMatchesSchema,
  checkTableRecovery,
  checkVisibilityVsTimeout,
  checkWebhookFunctionUrl,
  INFRA_CHECKS,
  type InfraCheck,
  physicalName as physical,
  queueArgs as queue,
  queueArn,
  type Synth,
  type SynthOptions,
  senderArgs,
  senderSafetyMarginSeconds,
  statementsOf,
  synthesizeInfra,
  withDeclarations,
  withRecordedArgs,
} from '../support/infra-checks.ts';
import { toSeconds } from '../support/sst-fake.ts';

/**
 * "Synthesizes" sst.config.ts + infra/ against a recording fake of SST's globals (the SST CLI cannot
 * run here) and checks the settings the design depends on, each with a named check of
 * test/support/infra-checks.ts. The second half breaks one setting at a time and shows that the
 * check guarding it fails, so a guard that silently stopped guarding is caught too.
 */

describe('infra synth', () => {
  let dev: Synth;
  let prod: Synth;

  beforeAll(async () => {
    dev = await synthesizeInfra('dev-alice');
    prod = await synthesizeInfra('production');
  });

  describe('storage', () => {
    it('declares the table keys, indexes and TTL attribute of table-schema.ts', () => {
      // Act
      const check = () => checkTableMatchesSchema(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('keeps point-in-time recovery on', () => {
      // Act
      const table = argsOf(dev.fake.one('aws.dynamodb.Table', 'TableTable'));
      // Assess
      expect(table.pointInTimeRecovery).toEqual({ enabled: true });
      expect(() => checkTableRecovery(dev)).not.toThrow();
    });

    it('protects the table from deletion on production stages only', () => {
      // Act
      const devTable = argsOf(dev.fake.one('aws.dynamodb.Table', 'TableTable'));
      const prodTable = argsOf(prod.fake.one('aws.dynamodb.Table', 'TableTable'));
      // Assess
      expect(devTable.deletionProtectionEnabled).toBe(false);
      expect(prodTable.deletionProtectionEnabled).toBe(true);
      expect(prod.app).toMatchObject({ removal: 'retain', protect: true, home: 'aws' });
      expect(dev.app).toMatchObject({ removal: 'remove', protect: false, home: 'aws' });
      expect(() => checkTableRecovery(prod)).not.toThrow();
    });
  });

  describe('queues', () => {
    it('makes the work queue FIFO with a FIFO dead-letter queue after at least 5 receives', () => {
      // Act
      const check = () => checkFifoWorkQueue(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('keeps the work queue visibility at least 6 times the sender timeout', () => {
      // Act
      const check = () => checkVisibilityVsTimeout(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('gives the callbacks a standard queue with its own dead-letter queue', () => {
      // Act
      const check = () => checkCallbackQueue(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('sender', () => {
    it('consumes the work queue in batches of several instances with partial batch responses', () => {
      // Act
      const subscription = () => checkSenderSubscription(dev);
      const partialResponses = () => checkPartialBatchResponses(dev);
      // Assess
      expect(subscription).not.toThrow();
      expect(partialResponses).not.toThrow();
    });

    it('caps the event source mapping with maximumConcurrency no higher than the reserved concurrency', () => {
      // Act
      const check = () => checkConcurrencyCeiling(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('sets a sending budget below the timeout minus the margin the handler keeps back', () => {
      // Act
      const check = () => checkBudgetBelowTimeout(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('callback sender', () => {
    it('consumes the callbacks queue with partial batch responses, within its visibility timeout', () => {
      // Act
      const mapping = argsOf(
        dev.fake.one('aws.lambda.EventSourceMapping', 'CallbackQueueSubscriberEventSourceMapping'),
      );
      const fn = argsOf(dev.fake.one('sst.aws.Function', 'CallbackQueueSubscriberFunction'));
      const visibility = queue(dev, 'CallbackQueue').visibilityTimeoutSeconds as number;
      // Assess
      expect(mapping.eventSourceArn).toBe(queueArn(dev, 'CallbackQueue'));
      expect(mapping.functionResponseTypes).toContain('ReportBatchItemFailures');
      expect(mapping.batchSize).toBeGreaterThanOrEqual(1);
      expect(mapping.batchSize).toBeLessThanOrEqual(10);
      // Batches gathered for a few seconds at most: a callback waits that long before it is posted.
      expect(mapping.maximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
      expect(mapping.maximumBatchingWindowInSeconds).toBeLessThanOrEqual(5);
      expect(mapping.scalingConfig?.maximumConcurrency).toBeGreaterThanOrEqual(2);
      expect(fn.handler).toBe('functions/callback-sender.handler');
      expect(toSeconds(fn.timeout) + mapping.maximumBatchingWindowInSeconds).toBeLessThan(visibility);
      expect(fn.environment.CALLBACK_QUEUE_URL).toBe(
        `https://sqs.us-east-1.amazonaws.com/123456789012/${physical(dev, 'CallbackQueue')}`,
      );
    });
  });

  describe('api', () => {
    it('routes every operation of the route list once, without trailing-slash keys, plus $default', () => {
      // Act
      const check = () => checkRoutesMatchRouteTable(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('sends each route to the handler of its functions/<fn>.ts entry point', () => {
      // Act
      const check = () => checkRouteHandlers(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('logs routeKey, status, latency and request id only, and throttles webhook, public and ERP routes apart', () => {
      // Act
      const check = () => checkApiStage(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it("serves Evolution's webhook from the function's own URL, throttled by its reserved concurrency, and returns that URL", () => {
      // Act
      const check = () => checkWebhookFunctionUrl(dev);
      const fn = argsOf(dev.fake.one('sst.aws.Function', 'ApiEvolutionWebhook'));
      // Assess
      expect(check).not.toThrow();
      expect(fn.url).toEqual({ cors: false });
      expect(dev.outputs.evolutionWebhook).toMatch(/^https:\/\/.+\.lambda-url\.us-east-1\.on\.aws\/$/);
    });

    it('installs swagger-ui-dist next to the docs function, which reads its files at run time', () => {
      // Act
      const check = () => checkDocsInstallsSwaggerUi(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('dashboard', () => {
    it('deploys the dashboard as a static site built with the API URL, with its security headers, and no function', () => {
      // Act
      const check = () => checkDashboardSite(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it("lets browsers call the API from the dashboard site's origin only", () => {
      // Act
      const cors = argsOf(dev.fake.one('aws.apigatewayv2.Api', 'ApiApi')).corsConfiguration;
      // Assess
      expect(cors).toEqual({
        allowOrigins: ['https://dashboardsite.cloudfront.net'],
        allowMethods: ['GET', 'POST', 'DELETE'],
        allowHeaders: ['content-type', 'x-billing-api-key'],
        maxAge: 86_400,
      });
      expect(() => checkApiCors(dev)).not.toThrow();
    });
  });

  describe('functions', () => {
    it('runs every function on Node 22 arm64 with the table and work queue in its environment', () => {
      // Act
      const check = () => checkFunctionRuntime(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('never puts a secret value in a function environment', () => {
      // Act
      const check = () => checkNoSecretInEnvironment(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('runs the sweeper and the callback deliverer every minute', () => {
      // Act
      const check = () => checkCrons(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('deploys every entry point of functions/', () => {
      // Act
      const check = () => checkEveryEntryPointDeployed(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('least privilege', () => {
    const dynamo = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);
    const AUTH_READ = dynamo('GetItem', 'UpdateItem', 'BatchGetItem', 'Query');
    const READ_WRITE = dynamo(
      'GetItem',
      'BatchGetItem',
      'Query',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'BatchWriteItem',
    );
    const SCHEDULES = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole'];
    const CONSUMES = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];

    /** Each function's exact grant: actions, the indexes it may query, the queues it may publish to. */
    const POLICIES: { fn: string; actions: string[]; indexes: string[]; publishes: string[] }[] = [
      {
        fn: 'ApiHealth',
        actions: ['dynamodb:GetItem', 'sqs:GetQueueAttributes'],
        indexes: [],
        publishes: [],
      },
      { fn: 'ApiMetrics', actions: [], indexes: [], publishes: [] },
      { fn: 'ApiOpenapi', actions: [], indexes: [], publishes: [] },
      { fn: 'ApiDocs', actions: [], indexes: [], publishes: [] },
      { fn: 'ApiTrailingSlash', actions: [], indexes: [], publishes: [] },
      ...['ApiSendOverdue', 'ApiSendUpcoming', 'ApiSendNotification'].map((fn) => ({
        fn,
        actions: [...READ_WRITE, 'sqs:SendMessage', ...SCHEDULES],
        indexes: ['gsi1'],
        publishes: ['WorkQueue'],
      })),
      ...['ApiQueueStatus', 'ApiGetCampaign', 'ApiMe', 'ApiStats'].map((fn) => ({
        fn,
        actions: AUTH_READ,
        indexes: [],
        publishes: [],
      })),
      ...[
        'ApiQueueContacts',
        'ApiListQueues',
        'ApiListEvents',
        'ApiConversationHistory',
        'ApiInstances',
        'ApiContactDetail',
      ].map((fn) => ({
        fn,
        actions: AUTH_READ,
        indexes: ['gsi1'],
        publishes: [],
      })),
      { fn: 'ApiOptouts', actions: READ_WRITE, indexes: ['gsi1'], publishes: [] },
      {
        fn: 'ApiQueueControl',
        actions: [...READ_WRITE, 'sqs:SendMessage', ...SCHEDULES],
        indexes: [],
        publishes: ['WorkQueue'],
      },
      ...['ApiPayments', 'ApiDebtorErasure'].map((fn) => ({
        fn,
        actions: [...READ_WRITE, 'sqs:SendMessage'],
        indexes: ['gsi1'],
        publishes: ['CallbackQueue'],
      })),
      {
        fn: 'ApiEvolutionWebhook',
        actions: [...READ_WRITE, 'sqs:SendMessage', ...SCHEDULES],
        indexes: ['gsi1'],
        publishes: ['WorkQueue', 'CallbackQueue'],
      },
      {
        fn: 'Release',
        actions: [...READ_WRITE, 'sqs:SendMessage'],
        indexes: [],
        publishes: ['WorkQueue', 'ReleaseDeadLetterQueue'],
      },
      {
        fn: 'WorkQueueSubscriberFunction',
        actions: [...READ_WRITE, 'sqs:SendMessage', 'ssm:GetParameter', ...SCHEDULES, ...CONSUMES],
        indexes: ['gsi1'],
        publishes: ['WorkQueue', 'CallbackQueue'],
      },
      {
        fn: 'CallbackQueueSubscriberFunction',
        actions: [...READ_WRITE, ...CONSUMES],
        indexes: ['gsi1'],
        publishes: [],
      },
      {
        fn: 'SweeperHandler',
        actions: [...READ_WRITE, 'sqs:SendMessage', ...SCHEDULES],
        indexes: ['gsi2'],
        publishes: ['WorkQueue', 'CallbackQueue'],
      },
      {
        fn: 'CallbackDelivererHandler',
        actions: [...READ_WRITE, 'sqs:SendMessage', ...CONSUMES],
        indexes: ['gsi1', 'gsi2'],
        publishes: ['CallbackQueue'],
      },
    ];

    const resourcesOf = (synth: Synth, fn: string, action: string) =>
      statementsOf(synth, fn)
        .filter((s) => s.actions.includes(action))
        .flatMap((s) => s.resources);

    it('declares a policy for every function, and only for functions that exist', () => {
      // Act
      const declared = dev.fake.ofType('sst.aws.Function').map((f) => f.name);
      // Assess
      expect([...declared].sort()).toEqual(POLICIES.map((p) => p.fn).sort());
    });

    for (const policy of POLICIES) {
      it(`grants ${policy.fn} exactly what it uses`, () => {
        // Act
        const actions = actionsOf(dev, policy.fn);
        const queried = resourcesOf(dev, policy.fn, 'dynamodb:Query').filter((r) => r.includes('/index/'));
        const published = resourcesOf(dev, policy.fn, 'sqs:SendMessage');
        // Assess
        expect(actions).toEqual([...new Set(policy.actions)].sort());
        expect(queried.map((r) => r.split('/index/')[1]).sort()).toEqual(policy.indexes);
        expect(published.map((arn) => arn.split(`${physical(dev, '')}`)[1]).sort()).toEqual(
          [...policy.publishes].sort().map((q) => (q === 'WorkQueue' ? 'WorkQueue.fifo' : q)),
        );
        for (const statement of statementsOf(dev, policy.fn)) {
          expect(
            statement.actions.filter((a) => a.includes('*')),
            policy.fn,
          ).toEqual([]);
        }
      });
    }

    it('links nothing, grants no wildcard or table-level action, and passes the scheduler role only to Scheduler', () => {
      // Act
      const check = () => checkLeastPrivilege(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('scopes schedules to the stage group and SSM reads to the stage prefix', () => {
      // Act
      const schedules = resourcesOf(dev, 'WorkQueueSubscriberFunction', 'scheduler:CreateSchedule');
      const parameters = resourcesOf(dev, 'WorkQueueSubscriberFunction', 'ssm:GetParameter');
      // Assess
      expect(schedules).toEqual([`arn:aws:scheduler:*:*:schedule/${physical(dev, '').slice(0, -1)}/*`]);
      expect(parameters).toEqual([`arn:aws:ssm:*:*:parameter/${dev.app.name}/dev-alice/*`]);
    });
  });

  describe('scheduler', () => {
    it('lets EventBridge Scheduler invoke the release function, with a DLQ for what fails', () => {
      // Act
      const check = () => checkReleaseScheduling(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('alarms', () => {
    it('computes the failure rate from the metric names of metric-names.ts over 3 of 5 periods', () => {
      // Act
      const check = () => checkFailureRateAlarm(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('computes the stalled rate from the metric names of metric-names.ts over periods no shorter than the delivery timeout', () => {
      // Act
      const check = () => checkStalledDeliveriesAlarm(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('pages on sustained failures of the store, the work queue and the scheduler', () => {
      // Act
      const check = () => checkDependencyAlarms(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('uses only metric names of metric-names.ts under our namespace', () => {
      // Act
      const check = () => checkAlarmMetricNames(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('alarms on every dead-letter queue, the oldest work item and every function errors', () => {
      // Act
      const check = () => checkAlarmCoverage(dev);
      // Assess
      expect(check).not.toThrow();
    });

    it('notifies the alarm topic, and e-mails it only when an address is configured', async () => {
      // Prepare
      vi.stubEnv('BILLING_ALARM_EMAIL', 'ops@example.com');
      let withEmail: Synth;
      try {
        withEmail = await synthesizeInfra('dev-bob');
      } finally {
        vi.unstubAllEnvs();
      }
      // Act
      const check = () => checkAlarmNotifications(dev);
      // Assess
      expect(check).not.toThrow();
      expect(dev.fake.ofType('aws.sns.TopicSubscription')).toHaveLength(0);
      expect(argsOf(withEmail.fake.one('aws.sns.TopicSubscription', 'AlarmEmailSubscription'))).toMatchObject(
        {
          protocol: 'email',
          endpoint: 'ops@example.com',
        },
      );
    });

    it('draws sent, failed, delivered, the failure rate and the work queue depth on the dashboard', () => {
      // Act
      const check = () => checkDashboard(dev);
      // Assess
      expect(check).not.toThrow();
    });
  });

  describe('insecure callbacks', () => {
    it('refuses to deploy a production stage with BILLING_ALLOW_INSECURE_CALLBACKS=true', async () => {
      // Prepare
      vi.stubEnv('BILLING_ALLOW_INSECURE_CALLBACKS', 'true');
      try {
        // Act
        const production = synthesizeInfra('production');
        // Assess
        await expect(production).rejects.toThrow(/for development stages only; stage production/);
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('turns them on for a development stage that asks, and says which stage is production', async () => {
      // Prepare
      vi.stubEnv('BILLING_ALLOW_INSECURE_CALLBACKS', 'true');
      let withFlag: Synth;
      try {
        withFlag = await synthesizeInfra('dev-carol');
      } finally {
        vi.unstubAllEnvs();
      }
      // Act
      const env = (synth: Synth) => argsOf(synth.fake.one('sst.aws.Function', 'ApiHealth')).environment;
      // Assess
      expect(env(withFlag)).toMatchObject({ ALLOW_INSECURE_CALLBACKS: 'true', PRODUCTION_STAGE: 'false' });
      expect(env(dev)).toMatchObject({ ALLOW_INSECURE_CALLBACKS: 'false', PRODUCTION_STAGE: 'false' });
      expect(env(prod)).toMatchObject({ ALLOW_INSECURE_CALLBACKS: 'false', PRODUCTION_STAGE: 'true' });
    });
  });

  it('returns the API URL and the names an operator needs from run()', () => {
    // Act
    const check = () => checkRunOutputs(dev);
    // Assess
    expect(check).not.toThrow();
  });

  it('passes every check on a production stage too', () => {
    // Act
    const failures = Object.entries(INFRA_CHECKS).flatMap(([name, check]) => {
      try {
        check(prod);
        return [];
      } catch (error) {
        return [`${name}: ${(error as Error).message}`];
      }
    });
    // Assess
    expect(failures).toEqual([]);
  });

  describe('the guards fail when a setting is broken', () => {
    /** One setting broken after synthesis, in a copy of what the fake recorded; no product file touched. */
    interface RecordedBreak {
      setting: string;
      check: InfraCheck;
      problem: RegExp;
      /** Other checks that guard the same setting and must fail too. */
      alsoFails?: InfraCheck[];
      breakIn(synth: Synth): Synth;
    }

    const sendersMapping = (s: Synth, mutate: Parameters<typeof withRecordedArgs>[3]) =>
      withRecordedArgs(s, 'aws.lambda.EventSourceMapping', 'WorkQueueSubscriberEventSourceMapping', mutate);
    const sendersFunction = (s: Synth, mutate: Parameters<typeof withRecordedArgs>[3]) =>
      withRecordedArgs(s, 'sst.aws.Function', 'WorkQueueSubscriberFunction', mutate);
    const workQueue = (s: Synth, mutate: Parameters<typeof withRecordedArgs>[3]) =>
      withRecordedArgs(s, 'aws.sqs.Queue', 'WorkQueueQueue', mutate);
    const table = (s: Synth, mutate: Parameters<typeof withRecordedArgs>[3]) =>
      withRecordedArgs(s, 'aws.dynamodb.Table', 'TableTable', mutate);

    const recordedBreaks: RecordedBreak[] = [
      {
        setting: 'the API lets every origin call it',
        check: checkApiCors,
        problem: /API CORS allows origins \["\*"\], not the dashboard site's only/,
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.apigatewayv2.Api', 'ApiApi', (args) => {
            args.corsConfiguration.allowOrigins = ['*'];
          }),
      },
      {
        setting: 'the dashboard site is built without the API URL',
        check: checkDashboardSite,
        problem: /dashboard site is built with VITE_API_URL undefined, not the API's URL/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.StaticSite', 'DashboardSite', (args) => {
            delete args.environment.VITE_API_URL;
          }),
      },
      {
        setting: 'the dashboard site is built into the local build folder',
        check: checkDashboardSite,
        problem: /dashboard site uploads "dist", not its own build folder \("dist"/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.StaticSite', 'DashboardSite', (args) => {
            args.build = { command: 'npm run build:dashboard -- --base / --outDir dist', output: 'dist' };
          }),
      },
      {
        setting: 'maximumConcurrency is above the reserved concurrency',
        check: checkConcurrencyCeiling,
        problem: /maximumConcurrency \d+ is above the sender's reserved concurrency \d+/,
        breakIn: (s) =>
          sendersMapping(s, (args) => {
            args.scalingConfig.maximumConcurrency = senderArgs(s).concurrency.reserved + 10;
          }),
      },
      {
        setting: 'the work queue visibility is 5 times the sender timeout',
        check: checkVisibilityVsTimeout,
        problem: /visibility timeout \d+ s is below 6 x the sender timeout \(\d+ s\)/,
        breakIn: (s) =>
          workQueue(s, (args) => {
            args.visibilityTimeoutSeconds = 5 * toSeconds(senderArgs(s).timeout);
          }),
      },
      {
        setting: 'the work queue dead-letters after 3 receives',
        check: checkFifoWorkQueue,
        problem: /maxReceiveCount is 3, below 5/,
        breakIn: (s) =>
          workQueue(s, (args) => {
            args.redrivePolicy = JSON.stringify({ ...JSON.parse(args.redrivePolicy), maxReceiveCount: 3 });
          }),
      },
      {
        setting: 'the sending budget reaches into the margin before the timeout',
        check: checkBudgetBelowTimeout,
        problem: /budget \d+ s is not below its timeout \d+ s minus the \d+ s margin/,
        // Exactly the limit: the budget must stay strictly below it.
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            args.environment.SENDER_BUDGET_SECONDS = String(
              toSeconds(args.timeout) - senderSafetyMarginSeconds(),
            );
          }),
      },
      {
        setting: 'partialResponses is off on the sender',
        check: checkPartialBatchResponses,
        problem: /WorkQueueSubscriberEventSourceMapping does not report batch item failures/,
        breakIn: (s) =>
          sendersMapping(s, (args) => {
            args.functionResponseTypes = [];
          }),
      },
      {
        setting: 'a route is declared with a trailing slash',
        check: checkRoutesMatchRouteTable,
        problem:
          /API routes differ from the route list and \$default: missing \[\], unexpected \["GET \/health\/"\]/,
        breakIn: (s) =>
          withDeclarations(s, (declared) => {
            const health = declared.find(
              (d) => d.type === 'sst.aws.ApiGatewayV2LambdaRoute' && argsOf(d).route === 'GET /health',
            );
            if (!health) throw new Error('GET /health is not declared');
            return [
              ...declared,
              { ...health, name: `${health.name}/`, args: { ...argsOf(health), route: 'GET /health/' } },
            ];
          }),
      },
      {
        setting: 'the access log records the raw path',
        check: checkApiStage,
        problem: /API access log fields: missing \[\], unexpected \["path"\]/,
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.apigatewayv2.Stage', 'ApiStage', (args) => {
            args.accessLogSettings.format = JSON.stringify({
              ...JSON.parse(args.accessLogSettings.format),
              path: '$context.path',
            });
          }),
      },
      {
        setting: "the webhook shares the ERP routes' budget",
        check: checkApiStage,
        problem: /webhook route POST \/api\/v1\/billing\/webhooks\/evolution\/.+ has no budget of its own/,
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.apigatewayv2.Stage', 'ApiStage', (args) => {
            args.routeSettings = [];
          }),
      },
      {
        setting: 'the webhook function URL has no reserved concurrency',
        check: checkWebhookFunctionUrl,
        problem: /the webhook function has no reserved concurrency \(its only throttle\)/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.Function', 'ApiEvolutionWebhook', (args) => {
            delete args.concurrency;
          }),
      },
      {
        setting: 'the webhook function URL allows browsers (CORS)',
        check: checkWebhookFunctionUrl,
        problem: /the webhook function URL allows CORS/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.Function', 'ApiEvolutionWebhook', (args) => {
            args.url = { cors: true };
          }),
      },
      {
        setting: 'an alarm reads a metric name that metric-names.ts does not have',
        check: checkAlarmMetricNames,
        problem: /alarm metric "MessageSent" is not in metric-names.ts/,
        alsoFails: [checkFailureRateAlarm],
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.cloudwatch.MetricAlarm', 'FailureRateAlarm', (args) => {
            args.metricQueries[0].metric.metricName = 'MessageSent';
          }),
      },
      {
        setting: 'the store outage alarm pages on a single bad minute',
        check: checkDependencyAlarms,
        problem: /dependency alarm for "store" pages on a single bad period/,
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.cloudwatch.MetricAlarm', 'DependencyOutageAlarm-store', (args) => {
            args.datapointsToAlarm = 1;
          }),
      },
      {
        setting: 'the stalled deliveries alarm looks at periods shorter than the delivery timeout',
        check: checkStalledDeliveriesAlarm,
        problem: /stalled alarm period 300 s is shorter than the delivery timeout \(900 s\)/,
        breakIn: (s) =>
          withRecordedArgs(s, 'aws.cloudwatch.MetricAlarm', 'StalledDeliveriesAlarm', (args) => {
            for (const query of args.metricQueries) if (query.metric) query.metric.period = 300;
          }),
      },
      {
        setting: 'the table expires items by another attribute than TTL_ATTRIBUTE',
        check: checkTableMatchesSchema,
        problem: /table ttl is .*"expiresAt".*, table-schema.ts says .*"ttl"/,
        breakIn: (s) =>
          table(s, (args) => {
            args.ttl.attributeName = 'expiresAt';
          }),
      },
      {
        setting: 'the work queue is a standard queue',
        check: checkFifoWorkQueue,
        problem: /work queue fifoQueue is false, not true/,
        breakIn: (s) =>
          workQueue(s, (args) => {
            args.fifoQueue = false;
          }),
      },
      {
        setting: 'the sender has no reserved concurrency',
        check: checkConcurrencyCeiling,
        problem: /sender has no reserved concurrency/,
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            delete args.concurrency;
          }),
      },
      {
        setting: 'point-in-time recovery is off',
        check: checkTableRecovery,
        problem: /pointInTimeRecovery is \{"enabled":false\}/,
        breakIn: (s) =>
          table(s, (args) => {
            args.pointInTimeRecovery = { enabled: false };
          }),
      },
      {
        setting: 'a secret value sits in a function environment',
        check: checkNoSecretInEnvironment,
        problem: /function WorkQueueSubscriberFunction has a secret value in its environment/,
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            args.environment.EVOLUTION_API_KEY = 'secret-value-of-EvolutionApiKey';
          }),
      },
      {
        setting: 'a function is granted dynamodb:*',
        check: checkLeastPrivilege,
        problem: /function ApiQueueStatus is granted the wildcard action dynamodb:\*/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.Function', 'ApiQueueStatus', (args) => {
            args.permissions[0].actions.push('dynamodb:*');
          }),
      },
      {
        setting: 'the sender may pass the scheduler role to any service',
        check: checkLeastPrivilege,
        problem: /function WorkQueueSubscriberFunction may pass its role to any service/,
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            for (const statement of args.permissions) delete statement.conditions;
          }),
      },
      {
        setting: 'a function links the table',
        check: checkLeastPrivilege,
        problem: /function ApiDocs links .*: link grants every action/,
        breakIn: (s) =>
          withRecordedArgs(s, 'sst.aws.Function', 'ApiDocs', (args) => {
            args.link = ['Table'];
          }),
      },
      {
        setting: 'the sender runs on x86_64',
        check: checkFunctionRuntime,
        problem: /functions\/sender.handler runs on "x86_64", not arm64/,
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            args.architecture = 'x86_64';
          }),
      },
      {
        setting: 'the sender names no scheduler driver',
        check: checkFunctionRuntime,
        problem: /functions\/sender.handler has SCHEDULER_DRIVER undefined, not eventbridge or none/,
        breakIn: (s) =>
          sendersFunction(s, (args) => {
            delete args.environment.SCHEDULER_DRIVER;
          }),
      },
    ];

    const passes = (check: InfraCheck, synth: Synth) => {
      try {
        check(synth);
        return true;
      } catch {
        return false;
      }
    };

    /** Checks other than `expected` that pass on `intact` but throw on `broken`: the break must not reach them. */
    const newlyFailing = (intact: Synth, broken: Synth, expected: InfraCheck[]) =>
      Object.entries(INFRA_CHECKS)
        .filter(([, check]) => !expected.includes(check))
        .filter(([, check]) => passes(check, intact))
        .flatMap(([name, check]) => {
          try {
            check(broken);
            return [];
          } catch (error) {
            return [`${name}: ${(error as Error).message}`];
          }
        });

    for (const broken of recordedBreaks) {
      it(`throws from ${broken.check.name} when ${broken.setting}`, () => {
        // Prepare
        const intact = () => broken.check(dev);
        // Act
        const brokenSynth = broken.breakIn(dev);
        // Assess
        expect(intact).not.toThrow();
        expect(() => broken.check(brokenSynth)).toThrow(broken.problem);
        for (const also of broken.alsoFails ?? []) expect(() => also(brokenSynth), also.name).toThrow();
        expect(newlyFailing(dev, brokenSynth, [broken.check, ...(broken.alsoFails ?? [])])).toEqual([]);
        // The copy is broken, the synth it came from is not.
        expect(intact).not.toThrow();
      });
    }

    /** One constant of infra/sender-limits.ts changed before synthesis: the break goes through infra/ and the fake. */
    interface LimitBreak {
      setting: string;
      check: InfraCheck;
      problem: RegExp;
      senderLimits: NonNullable<SynthOptions['senderLimits']>;
    }

    const limitBreaks: LimitBreak[] = [
      {
        setting: 'SENDER_MAX_CONCURRENCY is above SENDER_RESERVED_CONCURRENCY',
        check: checkConcurrencyCeiling,
        problem: /maximumConcurrency \d+ is above the sender's reserved concurrency \d+/,
        senderLimits: (real) => ({ SENDER_MAX_CONCURRENCY: real.SENDER_RESERVED_CONCURRENCY + 10 }),
      },
      {
        setting: 'WORK_QUEUE_VISIBILITY_SECONDS is 5 times SENDER_TIMEOUT_SECONDS',
        check: checkVisibilityVsTimeout,
        problem: /visibility timeout \d+ s is below 6 x the sender timeout \(\d+ s\)/,
        senderLimits: (real) => ({ WORK_QUEUE_VISIBILITY_SECONDS: 5 * real.SENDER_TIMEOUT_SECONDS }),
      },
      {
        setting: 'WORK_QUEUE_MAX_RECEIVE_COUNT is 3',
        check: checkFifoWorkQueue,
        problem: /maxReceiveCount is 3, below 5/,
        senderLimits: () => ({ WORK_QUEUE_MAX_RECEIVE_COUNT: 3 }),
      },
      {
        setting: 'SENDER_BUDGET_SECONDS is too close to SENDER_TIMEOUT_SECONDS',
        check: checkBudgetBelowTimeout,
        problem: /budget \d+ s is not below its timeout \d+ s/,
        senderLimits: (real) => ({ SENDER_BUDGET_SECONDS: real.SENDER_TIMEOUT_SECONDS - 20 }),
      },
    ];

    for (const broken of limitBreaks) {
      it(`throws from ${broken.check.name} when ${broken.setting}`, async () => {
        // Act
        const brokenSynth = await synthesizeInfra('dev-alice', { senderLimits: broken.senderLimits });
        const intactAgain = await synthesizeInfra('dev-alice');
        // Assess
        expect(() => broken.check(brokenSynth)).toThrow(broken.problem);
        expect(newlyFailing(dev, brokenSynth, [broken.check])).toEqual([]);
        // The mock is gone once the broken synth is done.
        expect(() => broken.check(intactAgain)).not.toThrow();
      });
    }
  });
});
