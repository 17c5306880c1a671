/**
 * A recording fake of the globals SST v3 gives sst.config.ts and infra/ (`$config`, `$app`, `$dev`,
 * `$interpolate`, `$jsonStringify`, `$resolve`, `$transform`, `sst.*`, `aws.*`), so the infra can be
 * "synthesized" in a test without the SST CLI (it downloads Pulumi) and without importing `sst`.
 *
 * Outputs are known at once (nothing is deployed): a fake Output holds its value, `apply` maps it, and
 * property access lifts like Pulumi's (`sub.nodes.function.name`). Components record their arguments
 * and, for the settings the synth test guards, the arguments of the AWS resource SST would create from
 * them (defaults and `transform` applied the way SST's component code does: an object is merged over
 * the defaults, a function mutates them).
 */

const OUTPUT = Symbol('fakeOutput');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** A declared resource: an SST component or the AWS resource it stands for. */
export interface Declared {
  type: string;
  name: string;
  args: Record<string, unknown>;
}

type Anything = Record<string | symbol, unknown>;

/** A Pulumi-like Output whose value is already known. */
export interface FakeOutput {
  readonly [OUTPUT]: true;
  readonly value: unknown;
  apply(fn: (value: never) => unknown): FakeOutput;
  // Lifted property access, as on a Pulumi Output.
  readonly [key: string]: unknown;
}

export const isFakeOutput = (value: unknown): value is FakeOutput =>
  typeof value === 'object' && value !== null && (value as Anything)[OUTPUT] === true;

/** Thrown when an output of a promise is read before the promise settled. */
class NotYetKnown extends Error {}

/**
 * The Output of `compute()` now, like a deployed value; when it depends on a value not known yet (a
 * promise the program settles later), computed when read instead.
 */
const whenKnown = (compute: () => unknown): FakeOutput => {
  try {
    return fakeOutput(compute());
  } catch (error) {
    if (!(error instanceof NotYetKnown)) throw error;
    return outputOf(compute);
  }
};

/** An Output whose value `read` gives; `apply` and property access lift like Pulumi's. */
const outputOf = (read: () => unknown): FakeOutput => {
  const target = {
    [OUTPUT]: true as const,
    get value() {
      return read();
    },
    apply: (fn: (v: never) => unknown): FakeOutput =>
      whenKnown(() => resolveOutputs(fn(resolveOutputs(read()) as never))),
  };
  return new Proxy(target, {
    get(t, key) {
      if (key in t) return Reflect.get(t, key);
      // Not thenable, not JSON-able: a test must resolve an output before using it as data.
      if (typeof key === 'symbol' || key === 'then' || key === 'toJSON') return undefined;
      return whenKnown(() => {
        const inner = resolveOutputs(read());
        return inner === null || inner === undefined ? undefined : (inner as Anything)[key];
      });
    },
  }) as unknown as FakeOutput;
};

/**
 * The Output of a promise, as `pulumi.output(promise)`: a value the program declares later (infra
 * hands one component's output to another declared before it). Known once the promise settles;
 * reading it before throws.
 */
const pendingOutput = (promise: Promise<unknown>): FakeOutput => {
  let settled = false;
  let result: unknown;
  void promise.then((value) => {
    settled = true;
    result = value;
  });
  return outputOf(() => {
    if (!settled) throw new NotYetKnown('a fake output of a promise was read before the promise settled');
    return result;
  });
};

/** Wraps a value (or an output or promise of one) in a fake Output; outputs of outputs flatten. */
export const fakeOutput = (value: unknown): FakeOutput => {
  if (isFakeOutput(value)) return value;
  if (value instanceof Promise) return pendingOutput(value);
  return outputOf(() => value);
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** Replaces every fake Output inside plain data by its value, like `pulumi.output(x)` does at deploy time. */
export const resolveOutputs = (value: unknown): unknown => {
  if (isFakeOutput(value)) return resolveOutputs(value.value);
  if (Array.isArray(value)) return value.map(resolveOutputs);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveOutputs(v)]));
  }
  return value;
};

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 };

/** `"300 seconds"`, `"5 minutes"`, `"1 hour"` -> seconds (SST's Duration strings). */
export const toSeconds = (duration: unknown): number => {
  const match = /^(\d+(?:\.\d+)?) (second|minute|hour|day)s?$/.exec(String(resolveOutputs(duration)));
  const unit = match?.[2];
  if (!match || !unit) throw new Error(`Not an SST duration: ${String(duration)}`);
  return Number(match[1]) * (UNIT_SECONDS[unit] ?? Number.NaN);
};

/** `"256 MB"`, `"1 GB"` -> megabytes (SST's Size strings). */
export const toMegabytes = (size: unknown): number => {
  const match = /^(\d+(?:\.\d+)?) (MB|GB)$/.exec(String(resolveOutputs(size)));
  if (!match) throw new Error(`Not an SST size: ${String(size)}`);
  return Number(match[1]) * (match[2] === 'GB' ? 1024 : 1);
};

type Transform = ((args: Record<string, unknown>, ...rest: unknown[]) => unknown) | Record<string, unknown>;

/** SST's `transform()`: a function mutates the defaults, an object is merged over them. */
const applyTransform = (transform: unknown, defaults: Record<string, unknown>): Record<string, unknown> => {
  if (typeof transform === 'function') {
    (transform as Extract<Transform, (...a: never[]) => unknown>)(defaults, {}, '');
    return defaults;
  }
  return { ...defaults, ...((transform as Record<string, unknown> | undefined) ?? {}) };
};

/**
 * The HTTP API's CORS settings from the component's `cors` (SST's normalizeCors): none when false,
 * every origin, method and header when true or absent, else those defaults with the given settings
 * over them.
 */
const corsConfiguration = (cors: unknown): Record<string, unknown> => {
  if (cors === false) return {};
  const defaults = { allowHeaders: ['*'], allowMethods: ['*'], allowOrigins: ['*'] };
  if (cors === true || cors === undefined) return defaults;
  const given = cors as Record<string, unknown>;
  return { ...defaults, ...given, maxAge: given.maxAge === undefined ? undefined : toSeconds(given.maxAge) };
};

const RETENTION_DAYS: Record<string, number> = {
  '1 day': 1,
  '3 days': 3,
  '5 days': 5,
  '1 week': 7,
  '2 weeks': 14,
  '1 month': 30,
  '2 months': 60,
  '3 months': 90,
  '6 months': 180,
  '1 year': 365,
  forever: 0,
};

export interface SstFake {
  /** `$app`: `name` is set by the test from the config's `app()`, as SST does. */
  app: { name: string; stage: string };
  declared: Declared[];
  /** Every declaration of a type (`sst.aws.Function`, `aws.cloudwatch.MetricAlarm`, ...). */
  ofType(type: string): Declared[];
  /** The one declaration of that type and name; throws if absent. */
  one(type: string, name: string): Declared;
  /** Restores the globals that were there before. */
  uninstall(): void;
}

/** Installs the fake globals on `globalThis`; call `uninstall()` when done. */
export const installSstFake = (options: { stage: string; appName?: string }): SstFake => {
  const app = { name: options.appName ?? 'app', stage: options.stage };
  const declared: Declared[] = [];
  const physical = (name: string) => `${app.name}-${app.stage}-${name}`;

  const declare = (type: string, name: string, args: unknown): Record<string, unknown> => {
    // Pulumi refuses two resources with one URN (type + name): so does the fake.
    if (declared.some((d) => d.type === type && d.name === name)) {
      throw new Error(`Duplicate resource ${type} "${name}"`);
    }
    const recorded = { ...((args as Record<string, unknown> | undefined) ?? {}) };
    declared.push({ type, name, args: recorded });
    return recorded;
  };

  /** A fake AWS resource: declared outputs plus lifted access to its own arguments. */
  const awsResource = (type: string, name: string, args: unknown, outputs: Record<string, unknown> = {}) => {
    const recorded = declare(type, name, args);
    const base: Record<string, unknown> = {
      urn: `urn:pulumi:${app.stage}::${app.name}::${type}::${name}`,
      id: fakeOutput(`${name}-id`),
      arn: fakeOutput(`arn:aws:${type.split('.')[1]}:${REGION}:${ACCOUNT}:${physical(name)}`),
      name: fakeOutput(recorded.name ?? physical(name)),
      ...outputs,
    };
    return new Proxy(base, {
      get(target, key) {
        if (key in target) return target[key as string];
        if (typeof key === 'symbol' || key === 'then' || key === 'toJSON') return undefined;
        return fakeOutput(recorded[key] ?? `${name}.${key}`);
      },
    });
  };

  class FakeFunction {
    readonly name: FakeOutput;
    readonly arn: FakeOutput;
    readonly url: FakeOutput;
    readonly nodes: Record<string, unknown>;
    constructor(name: string, args: Record<string, unknown>) {
      declare('sst.aws.Function', name, args);
      if (typeof args.handler !== 'string') throw new Error(`Function ${name} needs a handler`);
      this.name = fakeOutput(physical(name));
      this.arn = fakeOutput(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physical(name)}`);
      // SST's `url` getter: the FunctionUrl's address (with its trailing slash) when `url` is on.
      this.url = fakeOutput(
        resolveOutputs(args.url)
          ? `https://${physical(name).toLowerCase()}.lambda-url.${REGION}.on.aws/`
          : undefined,
      );
      this.nodes = { function: { name: this.name, arn: this.arn } };
    }
  }

  /**
   * SST's functionBuilder: an ARN references a function, a handler or FunctionArgs creates one, with
   * the component's default arguments under it (their permissions and environment merged, not replaced).
   */
  const buildFunction = (name: string, definition: unknown, defaults: Record<string, unknown> = {}) => {
    const value = resolveOutputs(definition);
    if (typeof value === 'string' && value.startsWith('arn:')) {
      return { arn: fakeOutput(value), name: fakeOutput(value.split(':').at(-1)) };
    }
    const args = typeof value === 'string' ? { handler: value } : (definition as Record<string, unknown>);
    const merged = (key: string) => [
      ...((defaults[key] as unknown[] | undefined) ?? []),
      ...((args[key] as unknown[] | undefined) ?? []),
    ];
    return new FakeFunction(name, {
      ...defaults,
      ...args,
      ...(defaults.permissions || args.permissions ? { permissions: merged('permissions') } : {}),
    });
  };

  /** What SST's QueueLambdaSubscriber grants its function on the queue (queue-lambda-subscriber.ts). */
  const QUEUE_CONSUMER_ACTIONS = [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ];

  class FakeQueue {
    readonly arn: FakeOutput;
    readonly url: FakeOutput;
    readonly nodes: { queue: Record<string, unknown> };
    private subscribed = false;
    constructor(
      private readonly componentName: string,
      args: Record<string, unknown> = {},
    ) {
      declare('sst.aws.Queue', componentName, args);
      const fifo = Boolean(resolveOutputs(args.fifo));
      const dlq = resolveOutputs(args.dlq) as string | { queue: string; retry: number } | undefined;
      const redrive = typeof dlq === 'string' ? { queue: dlq, retry: 3 } : dlq;
      const queueArgs = applyTransform((args.transform as Anything | undefined)?.queue, {
        fifoQueue: fifo,
        visibilityTimeoutSeconds: toSeconds(args.visibilityTimeout ?? '30 seconds'),
        redrivePolicy: redrive
          ? JSON.stringify({ deadLetterTargetArn: redrive.queue, maxReceiveCount: redrive.retry })
          : undefined,
      });
      const queueName = `${physical(componentName)}${fifo ? '.fifo' : ''}`;
      this.arn = fakeOutput(`arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`);
      this.url = fakeOutput(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName}`);
      this.nodes = {
        queue: awsResource('aws.sqs.Queue', `${componentName}Queue`, queueArgs, {
          name: fakeOutput(queueName),
          arn: this.arn,
          url: this.url,
        }),
      };
    }

    subscribe(subscriber: unknown, args: Record<string, unknown> = {}) {
      if (this.subscribed) throw new Error(`Queue ${this.componentName} already has a subscriber`);
      this.subscribed = true;
      const name = `${this.componentName}Subscriber`;
      declare('sst.aws.QueueLambdaSubscriber', name, { subscriber, ...args });
      const fn = buildFunction(`${name}Function`, subscriber, {
        description: `Subscribed to ${name}`,
        permissions: [{ actions: QUEUE_CONSUMER_ACTIONS, resources: [this.arn] }],
      });
      const batch = (resolveOutputs(args.batch) ?? {}) as {
        size?: number;
        window?: string;
        partialResponses?: boolean;
      };
      const mappingArgs = applyTransform((args.transform as Anything | undefined)?.eventSourceMapping, {
        functionResponseTypes: batch.partialResponses ? ['ReportBatchItemFailures'] : [],
        batchSize: batch.size ?? 10,
        maximumBatchingWindowInSeconds: batch.window ? toSeconds(batch.window) : 0,
        eventSourceArn: this.arn,
        functionName: fn.name,
      });
      const eventSourceMapping = awsResource(
        'aws.lambda.EventSourceMapping',
        `${name}EventSourceMapping`,
        mappingArgs,
      );
      return fakeOutput({ nodes: { function: fn, eventSourceMapping } });
    }
  }

  class FakeDynamo {
    readonly name: FakeOutput;
    readonly arn: FakeOutput;
    readonly nodes: { table: unknown };
    constructor(name: string, args: Record<string, unknown>) {
      declare('sst.aws.Dynamo', name, args);
      const fields = resolveOutputs(args.fields) as Record<string, string>;
      const primary = resolveOutputs(args.primaryIndex) as { hashKey: string; rangeKey?: string };
      const globalIndexes = (resolveOutputs(args.globalIndexes) ?? {}) as Record<
        string,
        { hashKey: string; rangeKey?: string }
      >;
      const ttl = resolveOutputs(args.ttl);
      const tableArgs = applyTransform((args.transform as Anything | undefined)?.table, {
        attributes: Object.entries(fields).map(([field, type]) => ({
          name: field,
          type: type === 'string' ? 'S' : type === 'number' ? 'N' : 'B',
        })),
        billingMode: 'PAY_PER_REQUEST',
        hashKey: primary.hashKey,
        rangeKey: primary.rangeKey,
        pointInTimeRecovery: { enabled: true },
        ttl: ttl === undefined ? undefined : { attributeName: ttl, enabled: true },
        globalSecondaryIndexes: Object.entries(globalIndexes).map(([indexName, index]) => ({
          name: indexName,
          hashKey: index.hashKey,
          rangeKey: index.rangeKey,
          projectionType: 'ALL',
        })),
      });
      this.name = fakeOutput(physical(name));
      this.arn = fakeOutput(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${physical(name)}`);
      this.nodes = {
        table: awsResource('aws.dynamodb.Table', `${name}Table`, tableArgs, {
          name: this.name,
          arn: this.arn,
        }),
      };
    }
  }

  class FakeApiGatewayV2 {
    readonly url: FakeOutput;
    readonly nodes: { api: Record<string, unknown> };
    private readonly routes = new Set<string>();
    constructor(
      private readonly componentName: string,
      args: Record<string, unknown> = {},
    ) {
      declare('sst.aws.ApiGatewayV2', componentName, args);
      const transforms = (args.transform ?? {}) as Anything;
      const accessLog = (resolveOutputs(args.accessLog) ?? {}) as { retention?: string };
      const retention = accessLog.retention ?? 'forever';
      if (!(retention in RETENTION_DAYS)) throw new Error(`Unknown log retention ${retention}`);
      const logGroup = awsResource(
        'aws.cloudwatch.LogGroup',
        `${componentName}AccessLog`,
        applyTransform(transforms.logGroup, {
          name: `/aws/vendedlogs/apis/${physical(componentName)}`,
          retentionInDays: RETENTION_DAYS[retention],
        }),
      );
      const api = awsResource('aws.apigatewayv2.Api', `${componentName}Api`, {
        protocolType: 'HTTP',
        corsConfiguration: fakeOutput(args.cors).apply(corsConfiguration),
      });
      awsResource(
        'aws.apigatewayv2.Stage',
        `${componentName}Stage`,
        applyTransform(transforms.stage, {
          apiId: api.id,
          autoDeploy: true,
          name: '$default',
          accessLogSettings: { destinationArn: logGroup.arn, format: '{}' },
        }),
      );
      this.url = fakeOutput(`https://${componentName.toLowerCase()}.execute-api.${REGION}.amazonaws.com`);
      this.nodes = { api };
    }

    route(rawRoute: string, handler: unknown, args: Record<string, unknown> = {}) {
      const parts = rawRoute.split(' ');
      const [method = '', path = ''] = parts;
      const methods = ['ANY', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
      const isDefault = rawRoute.toLowerCase() === '$default';
      if (
        !isDefault &&
        (parts.length !== 2 || !methods.includes(method.toUpperCase()) || !path.startsWith('/'))
      ) {
        throw new Error(`Invalid route ${rawRoute}: must be "METHOD /path" or "$default"`);
      }
      const key = isDefault ? '$default' : `${method.toUpperCase()} ${path}`;
      if (this.routes.has(key)) throw new Error(`Duplicate route ${key}`);
      this.routes.add(key);
      const name = `${this.componentName}Route ${key}`;
      declare('sst.aws.ApiGatewayV2LambdaRoute', name, { route: key, handler, ...args });
      const fn = buildFunction(`${name} Handler`, handler);
      return { nodes: { function: fn } };
    }
  }

  /**
   * SST's StaticSite: the site's files in a bucket behind a CloudFront distribution, built by
   * `build.command` in `path` (nothing is built here), served at the distribution's URL.
   */
  class FakeStaticSite {
    readonly url: FakeOutput;
    constructor(name: string, args: Record<string, unknown> = {}) {
      declare('sst.aws.StaticSite', name, args);
      for (const removed of ['base', 'cdn'])
        if (removed in args)
          throw new Error(`StaticSite ${name}: "${removed}" is deprecated and refused by SST`);
      awsResource('aws.s3.BucketV2', `${name}Assets`, {});
      const viewerResponse = (
        resolveOutputs(args.edge) as { viewerResponse?: { injection: string } } | undefined
      )?.viewerResponse;
      if (viewerResponse) {
        awsResource('aws.cloudfront.Function', `${name}CloudfrontFunctionResponse`, {
          runtime: 'cloudfront-js-2.0',
          code: `async function handler(event) {\n${viewerResponse.injection}\nreturn event.response;\n}`,
        });
      }
      this.url = fakeOutput(`https://${name.toLowerCase()}.cloudfront.net`);
    }
  }

  class FakeCron {
    readonly nodes: { job: FakeOutput };
    constructor(name: string, args: Record<string, unknown>) {
      declare('sst.aws.Cron', name, args);
      const schedule = String(resolveOutputs(args.schedule));
      if (!/^(rate|cron)\(.+\)$/.test(schedule)) throw new Error(`Invalid schedule ${schedule}`);
      if (args.job === undefined) throw new Error(`Cron ${name} needs a job`);
      awsResource('aws.cloudwatch.EventRule', `${name}Rule`, { scheduleExpression: schedule });
      this.nodes = { job: fakeOutput(buildFunction(`${name}Handler`, args.job)) };
    }
  }

  class FakeSecret {
    readonly value: FakeOutput;
    readonly name: FakeOutput;
    constructor(name: string, placeholder?: string) {
      declare('sst.Secret', name, { placeholder });
      this.name = fakeOutput(name);
      this.value = fakeOutput(`secret-value-of-${name}`);
    }
  }

  const dataSources: Record<string, () => FakeOutput> = {
    getRegionOutput: () => fakeOutput({ name: REGION, region: REGION, id: REGION }),
    getCallerIdentityOutput: () =>
      fakeOutput({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, userId: ACCOUNT }),
    getPartitionOutput: () => fakeOutput({ partition: 'aws', dnsSuffix: 'amazonaws.com' }),
  };

  /** `aws.<namespace>.<Resource>`: any Pulumi AWS resource class, recorded under that type. */
  const awsNamespace = (namespace: string) =>
    new Proxy(
      {},
      {
        get(_target, key) {
          if (typeof key !== 'string') return undefined;
          if (!/^[A-Z]/.test(key)) throw new Error(`The SST fake has no aws.${namespace}.${key}`);
          const type = `aws.${namespace}.${key}`;
          return class {
            constructor(name: string, args: Record<string, unknown> = {}) {
              // biome-ignore lint/correctness/noConstructorReturn: a recording proxy stands in for the resource.
              return awsResource(type, name, args);
            }
          };
        },
      },
    );

  const aws = new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key !== 'string') return undefined;
        const source = dataSources[key];
        if (source) return source;
        if (key.startsWith('get')) throw new Error(`The SST fake has no aws.${key}`);
        return awsNamespace(key);
      },
    },
  );

  const interpolate = (strings: TemplateStringsArray, ...values: unknown[]) =>
    fakeOutput(
      strings.reduce(
        (text, part, i) => text + part + (i < values.length ? String(resolveOutputs(values[i])) : ''),
        '',
      ),
    );
  const all = (values: unknown) => fakeOutput(resolveOutputs(values));
  const jsonStringify = (value: unknown, space?: number) =>
    fakeOutput(JSON.stringify(resolveOutputs(value), null, space));

  const globals: Record<string, unknown> = {
    $config: (config: unknown) => config,
    $app: app,
    $dev: false,
    $interpolate: interpolate,
    $concat: (...values: unknown[]) => fakeOutput(values.map((v) => String(resolveOutputs(v))).join('')),
    $jsonStringify: jsonStringify,
    $jsonParse: (text: unknown) => fakeOutput(JSON.parse(String(resolveOutputs(text)))),
    $resolve: all,
    $output: fakeOutput,
    $util: { output: fakeOutput, all, interpolate, jsonStringify, secret: fakeOutput },
    $transform: (resource: unknown, transform: unknown) =>
      declare('$transform', String(declared.length), { resource, transform }),
    sst: {
      Secret: FakeSecret,
      aws: {
        Function: FakeFunction,
        Queue: FakeQueue,
        Dynamo: FakeDynamo,
        ApiGatewayV2: FakeApiGatewayV2,
        StaticSite: FakeStaticSite,
        Cron: FakeCron,
      },
    },
    aws,
  };

  const scope = globalThis as unknown as Record<string, unknown>;
  const previous = Object.fromEntries(
    Object.keys(globals).map((key) => [key, Object.getOwnPropertyDescriptor(scope, key)]),
  );
  for (const [key, value] of Object.entries(globals)) scope[key] = value;

  return {
    app,
    declared,
    ofType: (type) => declared.filter((d) => d.type === type),
    one: (type, name) => {
      const found = declared.find((d) => d.type === type && d.name === name);
      if (!found) throw new Error(`No ${type} named "${name}" was declared`);
      return found;
    },
    uninstall: () => {
      for (const [key, descriptor] of Object.entries(previous)) {
        if (descriptor) Object.defineProperty(scope, key, descriptor);
        else delete scope[key];
      }
    },
  };
};
