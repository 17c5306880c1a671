import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEventBridgeScheduler,
  scheduleName,
} from '../../lib/adapters/scheduler/eventbridge-scheduler.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';

const NOW = new Date('2025-01-01T09:00:00.000Z');
const item: WorkItem = { queueId: 'q-1', tenantId: 'acme', instanceId: 'inst-1', generation: 7 };
const ARNS = {
  targetArn: 'arn:aws:lambda:sa-east-1:123456789012:function:billing-release',
  roleArn: 'arn:aws:iam::123456789012:role/billing-scheduler',
  deadLetterArn: 'arn:aws:sqs:sa-east-1:123456789012:billing-schedules-dlq',
};

const clients: SchedulerClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** An adapter on a mocked client (no network), with a fixed clock. */
const setup = (options: { timezone?: string } = {}) => {
  const client = new SchedulerClient({
    region: 'sa-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  clients.push(client);
  const mock = mockClient(client);
  mock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  mock.on(DeleteScheduleCommand).resolves({});
  const scheduler = createEventBridgeScheduler({
    client,
    groupName: 'billing',
    ...ARNS,
    clock: { now: () => NOW },
    ...options,
  });
  const created = (): CreateScheduleCommandInput[] =>
    mock.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
  return { scheduler, mock, created };
};

describe('createEventBridgeScheduler', () => {
  it('schedules a São Paulo instant in São Paulo local time', async () => {
    // Prepare: 11:00 UTC is 08:00 in São Paulo (UTC-3, no daylight saving time since 2019).
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item, {
      timezone: 'America/Sao_Paulo',
    });

    // Assess
    expect(created()).toHaveLength(1);
    expect(created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-03-10T08:00:00)',
      ScheduleExpressionTimezone: 'America/Sao_Paulo',
    });
  });

  it.each([
    ['2025-03-10T11:00:00.001Z', 'at(2025-03-10T08:01:00)'],
    ['2025-03-10T11:00:37.500Z', 'at(2025-03-10T08:01:00)'],
    ['2025-03-10T11:00:59.999Z', 'at(2025-03-10T08:01:00)'],
    ['2025-03-10T02:59:30.000Z', 'at(2025-03-10T00:00:00)'],
  ])('rounds %s up to the next whole minute (%s) so it never fires early', async (at, expression) => {
    // Prepare
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date(at), item, { timezone: 'America/Sao_Paulo' });

    // Assess
    expect(created()[0]?.ScheduleExpression).toBe(expression);
  });

  it('uses the adapter timezone when the call gives none, and UTC when neither does', async () => {
    // Prepare
    const withDefault = setup({ timezone: 'America/Sao_Paulo' });
    const withoutDefault = setup();
    const at = new Date('2025-03-10T11:00:00.000Z');

    // Act
    await withDefault.scheduler.schedule('resume-q-1', at, item);
    await withoutDefault.scheduler.schedule('resume-q-1', at, item);

    // Assess
    expect(withDefault.created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-03-10T08:00:00)',
      ScheduleExpressionTimezone: 'America/Sao_Paulo',
    });
    expect(withoutDefault.created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-03-10T11:00:00)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('falls back to UTC for a local time that happens twice (the hour repeated when DST ends)', async () => {
    // Prepare: 05:30 UTC on 2025-11-02 is 01:30 EDT; 06:30 UTC is 01:30 EST, the same wall time.
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-11-02T05:30:00.000Z'), item, {
      timezone: 'America/New_York',
    });

    // Assess
    expect(created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-11-02T05:30:00)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('keeps the local time the day a zone springs forward (no ambiguity there)', async () => {
    // Prepare: 07:30 UTC on 2025-03-09 is 03:30 EDT, just after New York skipped 02:00-03:00.
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-03-09T07:30:00.000Z'), item, {
      timezone: 'America/New_York',
    });

    // Assess
    expect(created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-03-09T03:30:00)',
      ScheduleExpressionTimezone: 'America/New_York',
    });
  });

  it('falls back to UTC for a timezone the runtime does not know', async () => {
    // Prepare
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item, {
      timezone: 'Mars/Olympus_Mons',
    });

    // Assess
    expect(created()[0]).toMatchObject({
      ScheduleExpression: 'at(2025-03-10T11:00:00)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('moves an `at` already past to the next whole minute after now', async () => {
    // Prepare: NOW is 09:00:00 UTC.
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-01-01T08:30:00.000Z'), item);

    // Assess
    expect(created()[0]?.ScheduleExpression).toBe('at(2025-01-01T09:01:00)');
  });

  it('targets the release function with the item as JSON, a retry policy, a DLQ and delete after completion', async () => {
    // Prepare
    const { scheduler, created } = setup();

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item);

    // Assess
    const input = created()[0];
    expect(input).toMatchObject({
      Name: 'resume-q-1',
      GroupName: 'billing',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: ARNS.targetArn,
        RoleArn: ARNS.roleArn,
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: ARNS.deadLetterArn },
      },
    });
    expect(JSON.parse(input?.Target?.Input ?? 'null')).toEqual(item);
  });

  it('uses the retry policy it is given', async () => {
    // Prepare
    const client = new SchedulerClient({
      region: 'sa-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    clients.push(client);
    const mock = mockClient(client);
    mock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const scheduler = createEventBridgeScheduler({
      client,
      groupName: 'billing',
      ...ARNS,
      retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
      clock: { now: () => NOW },
    });

    // Act
    await scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item);

    // Assess
    expect(mock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.RetryPolicy).toEqual({
      MaximumRetryAttempts: 10,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  it('refuses an item that is not a valid work item before calling AWS', async () => {
    // Prepare
    const { scheduler, created } = setup();

    // Act
    const scheduling = scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), {
      ...item,
      queueId: '',
    });

    // Assess
    await expect(scheduling).rejects.toThrow();
    expect(created()).toHaveLength(0);
  });

  it('treats a schedule that already exists (ConflictException) as done', async () => {
    // Prepare
    const { scheduler, mock } = setup();
    mock.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule resume-q-1 already exists.',
        Message: 'Schedule resume-q-1 already exists.',
        $metadata: {},
      }),
    );

    // Act
    const scheduling = scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item);

    // Assess
    await expect(scheduling).resolves.toBeUndefined();
    expect(mock.commandCalls(CreateScheduleCommand)).toHaveLength(1);
  });

  it('passes other failures on (a deferral must not be lost silently)', async () => {
    // Prepare
    const { scheduler, mock } = setup();
    mock.on(CreateScheduleCommand).rejects(
      new ValidationException({
        message: 'Invalid ScheduleExpression',
        Message: 'Invalid ScheduleExpression',
        $metadata: {},
      }),
    );

    // Act
    const scheduling = scheduler.schedule('resume-q-1', new Date('2025-03-10T11:00:00.000Z'), item);

    // Assess
    await expect(scheduling).rejects.toThrow('Invalid ScheduleExpression');
  });

  it('gives the same schedule name to the same deferral every time', async () => {
    // Prepare
    const { scheduler, created } = setup();
    const at = new Date('2025-03-10T11:00:00.000Z');
    const long = `resume-${'0123456789abcdef'.repeat(5)}-20250310T1100`;

    // Act
    await scheduler.schedule(long, at, item);
    await scheduler.schedule(long, at, item);

    // Assess
    const [first, second] = created();
    expect(first?.Name).toBe(second?.Name);
  });

  it('deletes the schedule on cancel, in the same group and under the same name', async () => {
    // Prepare
    const { scheduler, mock } = setup();
    const name = 'recheck-q-1:1741600800000';

    // Act
    await scheduler.cancel(name);

    // Assess
    expect(mock.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: scheduleName(name), GroupName: 'billing' },
    ]);
  });

  it('treats the cancel of a schedule that does not exist (ResourceNotFoundException) as done', async () => {
    // Prepare
    const { scheduler, mock } = setup();
    mock.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule not found.',
        Message: 'Schedule not found.',
        $metadata: {},
      }),
    );

    // Act
    const cancelling = scheduler.cancel('resume-q-1');

    // Assess
    await expect(cancelling).resolves.toBeUndefined();
  });

  it('passes other cancel failures on', async () => {
    // Prepare
    const { scheduler, mock } = setup();
    mock
      .on(DeleteScheduleCommand)
      .rejects(new ValidationException({ message: 'bad group', Message: 'bad group', $metadata: {} }));

    // Act
    const cancelling = scheduler.cancel('resume-q-1');

    // Assess
    await expect(cancelling).rejects.toThrow('bad group');
  });
});

describe('scheduleName', () => {
  const valid = /^[0-9A-Za-z_.-]{1,64}$/;

  it('keeps a name that EventBridge accepts as it is', () => {
    // Prepare
    const name = 'resume-1b4e28ba-2fa1-11d2-883f-0016d3cca427-20250310T1100';

    // Act
    const result = scheduleName(name);

    // Assess
    expect(result).toBe(name);
  });

  it('shortens a name longer than 64 characters to a valid, deterministic one', () => {
    // Prepare
    const name = `resume-${'x'.repeat(100)}`;

    // Act
    const result = scheduleName(name);

    // Assess
    expect(result).toHaveLength(64);
    expect(result).toMatch(valid);
    expect(scheduleName(name)).toBe(result);
  });

  it('tells apart long names that share their first 64 characters', () => {
    // Prepare
    const prefix = `resume-${'x'.repeat(70)}`;

    // Act
    const first = scheduleName(`${prefix}-a`);
    const second = scheduleName(`${prefix}-b`);

    // Assess
    expect(first).not.toBe(second);
  });

  it('replaces characters EventBridge refuses and keeps names that differ only there apart', () => {
    // Prepare
    const colon = 'recheck-q-1:1741600800000';
    const underscore = 'recheck-q-1_1741600800000';

    // Act
    const fromColon = scheduleName(colon);
    const fromUnderscore = scheduleName(underscore);

    // Assess
    expect(fromColon).toMatch(valid);
    expect(fromColon.startsWith('recheck-q-1_1741600800000')).toBe(true);
    expect(fromColon).not.toBe(fromUnderscore);
  });
});
