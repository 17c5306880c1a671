import { describe, expect, it } from 'vitest';
import { createContainer } from '../../lib/composition.ts';
import { ConfigError, loadConfig } from '../../lib/config.ts';

const EVENTBRIDGE = {
  SCHEDULE_GROUP_NAME: 'billing-dev',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
  SCHEDULER_TARGET_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:release',
  SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:000000000000:release-dlq',
};

const configError = (env: Record<string, string>): ConfigError | undefined => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return undefined;
};

describe('the composition root chooses its drivers from config', () => {
  it('defaults to the store-backed scheduler and Prometheus metrics outside Lambda', () => {
    // Act
    const config = loadConfig({});
    // Assess
    expect([config.SCHEDULER_DRIVER, config.METRICS_DRIVER]).toEqual(['store', 'prometheus']);
  });

  it('defaults to EventBridge and EMF in Lambda', () => {
    // Act
    const config = loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'billing-sender', ...EVENTBRIDGE });
    // Assess
    expect([config.SCHEDULER_DRIVER, config.METRICS_DRIVER]).toEqual(['eventbridge', 'emf']);
  });

  it('refuses to start a Lambda whose EventBridge scheduler lacks its settings, naming them', () => {
    // Act
    const error = configError({ AWS_LAMBDA_FUNCTION_NAME: 'billing-sender', SCHEDULE_GROUP_NAME: 'g' });
    // Assess
    expect(error?.issues).toEqual([
      'SCHEDULER_ROLE_ARN: required by SCHEDULER_DRIVER=eventbridge (or set SCHEDULER_DRIVER=store|none)',
      'SCHEDULER_TARGET_ARN: required by SCHEDULER_DRIVER=eventbridge (or set SCHEDULER_DRIVER=store|none)',
      'SCHEDULER_DLQ_ARN: required by SCHEDULER_DRIVER=eventbridge (or set SCHEDULER_DRIVER=store|none)',
    ]);
  });

  it('never falls back to the store when eventbridge is asked for locally without settings', () => {
    // Act
    const error = configError({ SCHEDULER_DRIVER: 'eventbridge' });
    // Assess
    expect(error?.issues).toHaveLength(4);
  });

  it('gives functions of the none driver a scheduler that says it cannot schedule', async () => {
    // Arrange
    const c = createContainer(loadConfig({ SCHEDULER_DRIVER: 'none', LOG_LEVEL: 'SILENT' }), {
      store: {} as never,
    });
    // Act
    const scheduling = c.scheduler.schedule('q', new Date(0), { queueId: 'q', generation: 1 } as never);
    // Assess
    await expect(scheduling).rejects.toThrow('SCHEDULER_DRIVER=none: this function cannot schedule work');
  });

  it('serves Prometheus text locally and writes EMF in Lambda', () => {
    // Act
    const local = createContainer(loadConfig({ LOG_LEVEL: 'SILENT' }), { store: {} as never });
    const lambda = createContainer(loadConfig({ METRICS_DRIVER: 'emf', LOG_LEVEL: 'SILENT' }), {
      store: {} as never,
    });
    // Assess
    expect([typeof local.metrics.render, typeof lambda.metrics.render]).toEqual(['function', 'undefined']);
  });

  it('refuses to build a RabbitMQ container whose queues openContainer did not open', () => {
    // Act
    const build = () =>
      createContainer(loadConfig({ QUEUE_DRIVER: 'rabbitmq', LOG_LEVEL: 'SILENT' }), { store: {} as never });
    // Assess
    expect(build).toThrow('QUEUE_DRIVER=rabbitmq: build the container with openContainer');
  });
});
