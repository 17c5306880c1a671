/*
 * How long the product's AWS clients wait for an answer. Without a request timeout a service that
 * takes connections but never answers holds a request for the SDK's socket default (DynamoDB 300 s,
 * SQS 900 s), or until the function's own timeout. `requestTimeout` alone only logs a warning since
 * @smithy/node-http-handler 4: `throwOnRequestTimeout` makes it the error the SDK retries and, past
 * its attempts, the caller sees (a TimeoutError, which lib/adapters/store/store-outages.ts counts as
 * an outage). test/integration/aws-client-timeouts.test.ts holds the mechanism to it.
 */

/**
 * DynamoDB answers in milliseconds: 5 s is a store that has stopped answering, not a slow one. Its
 * four attempts (DynamoDB's default) end in about 21 s, so the API answers 503 STORE_UNAVAILABLE
 * inside API Gateway's 29 s.
 */
export const DYNAMODB_TIMEOUTS = {
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
  throwOnRequestTimeout: true,
} as const;

/**
 * SQS and EventBridge Scheduler: sends, deletes and schedule changes answer in milliseconds; the
 * longest call the product makes is a long poll of at most 2 s (lib/adapters/queue/sqs-queue.ts's
 * default; the local worker and the dead letters poll for 1 s). 10 s leaves both far behind and
 * frees a pump or a callback deliverer from a hung call in about half a minute (three attempts)
 * instead of a quarter of an hour.
 */
export const QUEUE_AND_SCHEDULER_TIMEOUTS = {
  connectionTimeout: 2_000,
  requestTimeout: 10_000,
  throwOnRequestTimeout: true,
} as const;

/**
 * SSM Parameter Store, read for a WhatsApp instance's `ssm:` credential when a process first needs
 * it (then remembered): a GetParameter answers in milliseconds, and a hung one would hold the send
 * that asked for it. Its three attempts end in about 16 s.
 */
export const PARAMETER_STORE_TIMEOUTS = {
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
  throwOnRequestTimeout: true,
} as const;
