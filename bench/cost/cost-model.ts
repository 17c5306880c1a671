import { GB, PRICES } from './prices.ts';

/**
 * The price arithmetic: what a run used, counted by the meter (metering.ts), turned into dollars
 * per million messages sent at the list prices of prices.ts. Numbers only, so the tests can check
 * it by hand.
 */

/** One Lambda function's share of a run. */
export interface FunctionUsage {
  invocations: number;
  /** Sum over invocations of the billed duration (ms, each rounded up to 1 ms) x memory (GB). */
  gbSeconds: number;
}

/** What a run used of each billed service. */
export interface Usage {
  lambda: Record<string, FunctionUsage>;
  /** Write units on the base table and on the indexes (DynamoDB's sizing rules, dynamodb-sizing.ts). */
  dynamoTableWriteUnits: number;
  dynamoIndexWriteUnits: number;
  dynamoReadUnits: number;
  /** Requests in 64 KB chunks. */
  sqsFifoRequests: number;
  sqsStandardRequests: number;
  /** Requests in 512 KB increments. */
  apiGatewayRequests: number;
  schedulerInvocations: number;
  /** Log and EMF lines written, plus Lambda's own per-invocation lines and API access log lines. */
  logBytes: number;
}

export const emptyUsage = (): Usage => ({
  lambda: {},
  dynamoTableWriteUnits: 0,
  dynamoIndexWriteUnits: 0,
  dynamoReadUnits: 0,
  sqsFifoRequests: 0,
  sqsStandardRequests: 0,
  apiGatewayRequests: 0,
  schedulerInvocations: 0,
  logBytes: 0,
});

/** The sum of several usages (the functions' shares add up by name). */
export const addUsage = (...usages: Usage[]): Usage =>
  usages.reduce((sum, u) => {
    const lambda = { ...sum.lambda };
    for (const [name, f] of Object.entries(u.lambda)) {
      const was = lambda[name] ?? { invocations: 0, gbSeconds: 0 };
      lambda[name] = { invocations: was.invocations + f.invocations, gbSeconds: was.gbSeconds + f.gbSeconds };
    }
    return {
      lambda,
      dynamoTableWriteUnits: sum.dynamoTableWriteUnits + u.dynamoTableWriteUnits,
      dynamoIndexWriteUnits: sum.dynamoIndexWriteUnits + u.dynamoIndexWriteUnits,
      dynamoReadUnits: sum.dynamoReadUnits + u.dynamoReadUnits,
      sqsFifoRequests: sum.sqsFifoRequests + u.sqsFifoRequests,
      sqsStandardRequests: sum.sqsStandardRequests + u.sqsStandardRequests,
      apiGatewayRequests: sum.apiGatewayRequests + u.apiGatewayRequests,
      schedulerInvocations: sum.schedulerInvocations + u.schedulerInvocations,
      logBytes: sum.logBytes + u.logBytes,
    };
  }, emptyUsage());

/** One line of the cost table: a service (or a function's compute), its usage and its dollars. */
export interface CostLine {
  service: string;
  /** In the price's unit. */
  usage: number;
  unit: string;
  usd: number;
}

export interface CostTable {
  lines: CostLine[];
  totalUsd: number;
}

/** GB-seconds of one invocation: its duration rounded up to the millisecond, as Lambda bills it. */
export const invocationGbSeconds = (durationMs: number, memoryMb: number): number =>
  (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);

/** Dollars per million messages for what `messages` sent messages used. */
export const costPerMillion = (usage: Usage, messages: number): CostTable => {
  if (!(messages > 0)) throw new Error('costPerMillion: no message was sent');
  return costOf(usage, 1_000_000 / messages);
};

/** Dollars for `usage` taken `scale` times (1: what it cost as counted). */
export const costOf = (usage: Usage, scale = 1): CostTable => {
  const line = (service: string, used: number, price: { usd: number; unit: string }): CostLine => ({
    service,
    usage: used * scale,
    unit: price.unit,
    usd: used * scale * price.usd,
  });
  const functions = Object.entries(usage.lambda).sort((a, b) => b[1].gbSeconds - a[1].gbSeconds);
  const invocations = functions.reduce((n, [, f]) => n + f.invocations, 0);
  const lines: CostLine[] = [
    ...functions.map(([name, f]) => line(`Lambda compute: ${name}`, f.gbSeconds, PRICES.lambdaGbSecond)),
    line('Lambda requests', invocations, PRICES.lambdaRequest),
    line('DynamoDB writes: table', usage.dynamoTableWriteUnits, PRICES.dynamoWriteUnit),
    line('DynamoDB writes: index copies', usage.dynamoIndexWriteUnits, PRICES.dynamoWriteUnit),
    line('DynamoDB reads', usage.dynamoReadUnits, PRICES.dynamoReadUnit),
    line('SQS FIFO (work queue)', usage.sqsFifoRequests, PRICES.sqsFifoRequest),
    line('SQS standard (callbacks queue)', usage.sqsStandardRequests, PRICES.sqsStandardRequest),
    line('API Gateway (HTTP API)', usage.apiGatewayRequests, PRICES.apiGatewayHttpRequest),
    line('EventBridge Scheduler', usage.schedulerInvocations, PRICES.schedulerInvocation),
    line('CloudWatch Logs ingestion', usage.logBytes / GB, PRICES.cloudwatchLogsIngestedGb),
  ];
  return { lines, totalUsd: lines.reduce((n, l) => n + l.usd, 0) };
};

/** DynamoDB write units (table and index copies) per message sent. */
export const writeUnitsPerMessage = (usage: Usage, messages: number): number =>
  (usage.dynamoTableWriteUnits + usage.dynamoIndexWriteUnits) / messages;
