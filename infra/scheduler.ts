import { appFunctionArgs, type Permission, TABLE_ACTIONS } from './runtime.ts';
import { resourcePrefix } from './stage.ts';

/**
 * Deferred work (design section 8): lib/adapters/scheduler/eventbridge-scheduler.ts creates one-time
 * schedules in this group, each targeting the release function (a schedule cannot set a FIFO
 * deduplication id, so the release function publishes the work item), deleted after completion, with
 * a retry policy and this DLQ.
 */

/** Deferrals that could not be delivered (Scheduler gave up, or the release function kept failing). */
export const releaseDeadLetterQueue = new sst.aws.Queue('ReleaseDeadLetterQueue', {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
});

/** Named after the stage, so the IAM statements below can scope schedules to it. */
export const scheduleGroup = new aws.scheduler.ScheduleGroup('ScheduleGroup', { name: resourcePrefix });

/** Republishes a queue's work item when its schedule fires (functions/release.ts). */
export const release = new sst.aws.Function(
  'Release',
  appFunctionArgs('functions/release.handler', {
    // One store read and one SQS publish.
    timeout: '30 seconds',
    memory: '256 MB',
    // Reads the queue and its claim, publishes its work item (lib/app/release-work.ts).
    access: { table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write], publishes: ['work'] },
    // The on-failure destination below is written with the function's own role.
    permissions: [{ actions: ['sqs:SendMessage'], resources: [releaseDeadLetterQueue.arn] }],
  }),
);

/**
 * Scheduler invokes the function asynchronously: once Lambda's own retries are spent the event goes
 * to the DLQ instead of vanishing (a schedule that fired is deleted, so it would be lost otherwise).
 */
export const releaseInvokeConfig = new aws.lambda.FunctionEventInvokeConfig('ReleaseInvokeConfig', {
  functionName: release.name,
  maximumRetryAttempts: 2,
  maximumEventAgeInSeconds: 6 * 60 * 60,
  destinationConfig: { onFailure: { destination: releaseDeadLetterQueue.arn } },
});

const accountId = aws.getCallerIdentityOutput().accountId;

/** The role EventBridge Scheduler assumes to invoke the release function and to dead-letter. */
export const schedulerRole = new aws.iam.Role('SchedulerRole', {
  assumeRolePolicy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        // Only schedules of this account (confused-deputy guard from the Scheduler guide).
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  }),
  inlinePolicies: [
    {
      name: 'invoke-release',
      policy: $jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: [release.arn, $interpolate`${release.arn}:*`],
          },
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: releaseDeadLetterQueue.arn },
        ],
      }),
    },
  ],
});

/** What a function that defers work needs to know (lib/config.ts reads these). */
export const schedulerEnvironment = {
  SCHEDULER_DRIVER: 'eventbridge',
  SCHEDULE_GROUP_NAME: scheduleGroup.name,
  SCHEDULER_ROLE_ARN: schedulerRole.arn,
  SCHEDULER_TARGET_ARN: release.arn,
  SCHEDULER_DLQ_ARN: releaseDeadLetterQueue.arn,
};

/**
 * Create and delete schedules of this stage's group (lib/adapters/scheduler/eventbridge-scheduler.ts
 * sends nothing else), and hand the role to Scheduler, and only to Scheduler. Only functions that
 * defer work get these, with schedulerEnvironment.
 */
export const schedulerPermissions: Permission[] = [
  {
    actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
    resources: [$interpolate`arn:aws:scheduler:*:*:schedule/${scheduleGroup.name}/*`],
  },
  {
    actions: ['iam:PassRole'],
    resources: [schedulerRole.arn],
    conditions: [
      { test: 'StringEquals', variable: 'iam:PassedToService', values: ['scheduler.amazonaws.com'] },
    ],
  },
];
