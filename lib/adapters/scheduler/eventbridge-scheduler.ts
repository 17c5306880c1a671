import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { ScheduleOptions, Scheduler } from '../../ports/scheduler.ts';
import type { WorkItem } from '../../ports/work-queue.ts';
import { workItemCodec } from '../queue/work-item-schema.ts';

export interface EventBridgeRetryPolicy {
  /** Attempts after the first failed invocation (0..185). */
  maximumRetryAttempts: number;
  /** How long an invocation keeps being retried before it goes to the DLQ (60..86400 s). */
  maximumEventAgeInSeconds: number;
}

export interface EventBridgeSchedulerOptions {
  client: SchedulerClient;
  /** The schedule group that holds this deployment's schedules. */
  groupName: string;
  /** The release function (it publishes the work item: a schedule cannot set a FIFO deduplication id). */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** Where invocations that kept failing go (an SQS queue), so a deferral is never lost silently. */
  deadLetterArn: string;
  /** Zone for schedules whose caller gives none (default UTC). */
  timezone?: string;
  /** Default: the service's maximum (185 attempts over 24 h). */
  retryPolicy?: EventBridgeRetryPolicy;
  /** Keeps an `at` already past from being sent as a time EventBridge would never fire. */
  clock?: Clock;
}

const MINUTE_MS = 60_000;
const NAME_MAX = 64;
const VALID_NAME = /^[0-9A-Za-z_.-]{1,64}$/;
const HASH_CHARS = 20;
const DEFAULT_RETRY: EventBridgeRetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 };

/**
 * EventBridge Scheduler adapter (design section 8): one one-time schedule per deferral, targeting
 * the release function with the work item as its input, deleted after it fires, with a retry
 * policy and a DLQ. EventBridge has one-minute precision, so `at` is rounded up: never early.
 */
export const createEventBridgeScheduler = (options: EventBridgeSchedulerOptions): Scheduler => {
  const { client, groupName } = options;
  const retry = options.retryPolicy ?? DEFAULT_RETRY;
  const clock = options.clock ?? systemClock;
  return {
    async schedule(name: string, at: Date, item: WorkItem, perSchedule?: ScheduleOptions) {
      const fireAt = fireMinute(at, clock.now());
      const { expression, timezone } = atExpression(
        fireAt,
        perSchedule?.timezone ?? options.timezone ?? 'UTC',
      );
      try {
        await client.send(
          new CreateScheduleCommand({
            Name: scheduleName(name),
            GroupName: groupName,
            Description: name.slice(0, 512),
            ScheduleExpression: expression,
            ScheduleExpressionTimezone: timezone,
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            State: 'ENABLED',
            Target: {
              Arn: options.targetArn,
              RoleArn: options.roleArn,
              Input: workItemCodec.encode(item),
              RetryPolicy: {
                MaximumRetryAttempts: retry.maximumRetryAttempts,
                MaximumEventAgeInSeconds: retry.maximumEventAgeInSeconds,
              },
              DeadLetterConfig: { Arn: options.deadLetterArn },
            },
          }),
        );
      } catch (error) {
        // The name is deterministic: a schedule by that name is this deferral, made before.
        if (errorName(error) === 'ConflictException') return;
        throw error;
      }
    },

    async cancel(name: string) {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleName(name), GroupName: groupName }));
      } catch (error) {
        // Already fired (and deleted after completion) or never made: nothing left to cancel.
        if (errorName(error) === 'ResourceNotFoundException') return;
        throw error;
      }
    },
  };
};

/**
 * The schedule name EventBridge gets for `name`: the name itself when it fits (`[0-9A-Za-z-_.]`,
 * up to 64 characters), otherwise a readable prefix plus a hash of the whole name. Deterministic,
 * so the same deferral always maps to the same schedule and a repeat is a conflict, not a copy.
 */
export const scheduleName = (name: string): string => {
  if (VALID_NAME.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_CHARS);
  const prefix = name.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, NAME_MAX - HASH_CHARS - 1);
  return `${prefix}-${hash}`;
};

/**
 * The whole minute EventBridge should fire at: `at` rounded up (it fires within the minute it is
 * given, so rounding down could fire before `at`), and at least the minute after `now` (a time
 * already past would never fire).
 */
export const fireMinute = (at: Date, now: Date): Date => {
  const rounded = Math.ceil(at.getTime() / MINUTE_MS) * MINUTE_MS;
  const earliest = (Math.floor(now.getTime() / MINUTE_MS) + 1) * MINUTE_MS;
  return new Date(Math.max(rounded, earliest));
};

/**
 * `at(yyyy-mm-ddThh:mm:ss)` of `instant` in `timezone`. Falls back to UTC (same instant) when the
 * zone is unknown or the local time is ambiguous (the repeated hour when DST ends), since
 * EventBridge could read an ambiguous time as the earlier instant and fire an hour early.
 */
export const atExpression = (instant: Date, timezone: string): { expression: string; timezone: string } => {
  const local = timezone === 'UTC' ? undefined : unambiguousWallClock(instant, timezone);
  return local
    ? { expression: `at(${local})`, timezone }
    : { expression: `at(${wallClock(instant, 'UTC')})`, timezone: 'UTC' };
};

const unambiguousWallClock = (instant: Date, timezone: string): string | undefined => {
  let wall: string;
  try {
    wall = wallClock(instant, timezone);
  } catch {
    return undefined;
  }
  // Another instant with the same wall time can only sit across an offset change: try the offsets
  // a day either side (DST and other zone changes are far less frequent than that).
  const wallAsUtc = Date.parse(`${wall}Z`);
  const offset = wallAsUtc - instant.getTime();
  for (const probe of [instant.getTime() - 86_400_000, instant.getTime() + 86_400_000]) {
    const otherOffset = Date.parse(`${wallClock(new Date(probe), timezone)}Z`) - probe;
    if (otherOffset === offset) continue;
    if (wallClock(new Date(wallAsUtc - otherOffset), timezone) === wall) return undefined;
  }
  return wall;
};

/** `yyyy-mm-ddThh:mm:ss` as a clock in `timezone` shows `instant` (throws on an unknown zone). */
const wallClock = (instant: Date, timezone: string): string => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
};

const errorName = (error: unknown): string | undefined =>
  error instanceof Error ? error.name : (error as { name?: string } | null)?.name;
