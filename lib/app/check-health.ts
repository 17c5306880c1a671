import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Reachability } from '../ports/message-queue.ts';
import type { SecretResolver } from '../ports/secrets.ts';
import type { TenantStore } from '../ports/store.ts';
import type { GatewayConnectionState, WhatsAppGateway } from '../ports/whatsapp-gateway.ts';
import type { WorkQueue } from '../ports/work-queue.ts';

export interface HealthReport {
  /** `degraded` when the store or the work queue is down (then the HTTP answer is 503). */
  status: 'ok' | 'degraded';
  store: 'ok' | 'unreachable';
  workQueue: Reachability;
  /** The probed instance's connection state; `unknown` when its gateway does not answer. */
  gateway: GatewayConnectionState | 'not_configured';
  latencyMs: number;
}

/** Each dependency gets this long to answer: a health check must answer even when one hangs. */
const CHECK_TIMEOUT_MS = 2_000;

const within = async <T>(check: Promise<T>, fallback: T): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * `/health`: which dependency is down, checked in parallel, each within 2 s:
 * 1. the store: one consistent read;
 * 2. the work queue: the broker answers (SQS GetQueueAttributes; RabbitMQ: the connection is up);
 * 3. the gateway of the probe instance (the demo instance locally), when there is one: Evolution's
 *    connection state. A gateway that is down degrades sending, not the service, so it does not
 *    turn the answer into a 503 (queues wait in `instance_down` and resume by themselves).
 * Every dependency found down is a WARN naming it.
 */
export const checkHealth = async (
  deps: {
    store: TenantStore;
    workQueue: WorkQueue;
    gateway: WhatsAppGateway;
    secrets: SecretResolver;
    clock: Clock;
    logger: Logger;
  },
  probe: { tenantId: string; instanceId: string },
): Promise<HealthReport> => {
  const started = deps.clock.now().getTime();
  const storeCheck = within(
    deps.store.getTenant('__health__').then(() => 'ok' as const),
    'unreachable' as const,
  );
  const queueCheck = within(deps.workQueue.reachability(), 'unreachable' as const);
  const gatewayCheck = within(
    (async (): Promise<HealthReport['gateway']> => {
      const instance = await deps.store.getInstance(probe.tenantId, probe.instanceId);
      if (!instance?.isActive) return 'not_configured';
      const apiKey = await deps.secrets.resolve(instance.credentialRef);
      return deps.gateway.connectionState({
        baseUrl: instance.baseUrl,
        instanceName: instance.instanceName,
        apiKey,
      });
    })(),
    'unknown' as const,
  );
  const [store, workQueue, gateway] = await Promise.all([storeCheck, queueCheck, gatewayCheck]);
  for (const [dependency, state] of [
    ['store', store],
    ['work_queue', workQueue],
    ['gateway', gateway],
  ] as const) {
    if (state === 'unreachable' || state === 'unknown')
      deps.logger.warn('health: dependency down', { dependency, state });
  }
  return {
    status: store === 'ok' && workQueue !== 'unreachable' ? 'ok' : 'degraded',
    store,
    workQueue,
    gateway,
    latencyMs: deps.clock.now().getTime() - started,
  };
};
