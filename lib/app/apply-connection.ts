import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import type { WhatsAppInstance } from '../domain/tenant-types.ts';
import type { BillingQueue, QueueStatus } from '../domain/types.ts';
import type { GatewayConnection } from '../ports/gateway-events.ts';
import { scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { type ApplyGatewayEventsDeps, applied, type IngestOutcome } from './gateway-event-intake.ts';
import { publishContinuation, transitionWithMetrics, workItemOf } from './queue-work.ts';

/** A queue parked by a lost connection is looked at again this soon (the pump re-checks the instance). */
const RECHECK_AFTER_CLOSE_MS = 60_000;
/** Queues read a page at a time when looking for those of one instance. */
const LIST_PAGE = 100;

/**
 * The open queues a lost connection stops: every status that may become `instance_down`, but not
 * `instance_down` itself (a parked queue keeps its own re-check).
 */
const STOPPED_BY_CLOSE = queueStatusesThatCanMoveTo('instance_down').filter(
  (status) => status !== 'instance_down',
);

/** Every queue of the tenant in `status` that sends through `instanceId`. */
const queuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  status: QueueStatus,
): Promise<BillingQueue[]> => {
  const found: BillingQueue[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listQueues(instance.tenantId, { status, limit: LIST_PAGE, cursor });
    found.push(...page.items.filter((q) => q.instanceId === instance.id && q.status === status));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
};

/** Remembers the instance's state; a lost connection stops its open queues, a regained one resumes them. */
export const applyConnection = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  connection: GatewayConnection,
): Promise<IngestOutcome> => {
  const { state } = connection;
  await deps.store.setInstanceConnectionState(instance.tenantId, instance.id, state);
  if (state === 'close') {
    const moved = await stopQueuesOfInstance(deps, instance, connection.reportedAs);
    return applied(`instance ${state}: ${moved} queue(s) stopped`);
  }
  if (state === 'open') {
    const moved = await resumeQueuesOfInstance(deps, instance);
    return applied(`instance open: ${moved} queue(s) resumed`);
  }
  return applied(`instance ${state}`);
};

/** Moves the instance's open queues to `instance_down`, each re-checked by the pump in a minute. */
const stopQueuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  reportedAs: string,
): Promise<number> => {
  const now = deps.clock.now();
  const at = new Date(now.getTime() + RECHECK_AFTER_CLOSE_MS);
  let moved = 0;
  for (const status of STOPPED_BY_CLOSE) {
    for (const queue of await queuesOfInstance(deps, instance, status)) {
      const down = await transitionWithMetrics(deps, queue, [status], 'instance_down', {
        pausedAt: now.toISOString(),
        pauseReason: `Instância WhatsApp desconectada (${reportedAs}); nova verificação em 1 min`,
        nextRunAt: at.toISOString(),
      });
      if (!down) continue;
      moved += 1;
      // The pump re-checks then (and backs off while it stays down), should `open` never come.
      const generation = await deps.store.nextPublishGeneration(down.id);
      await scheduleOrLeaveToSweeper(
        deps,
        `recheck-${down.id}-${at.getTime()}`,
        at,
        workItemOf(down, generation),
      );
    }
  }
  return moved;
};

/** Resumes the instance's `instance_down` queues at once (`pending`, and their work published). */
const resumeQueuesOfInstance = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
): Promise<number> => {
  let moved = 0;
  for (const queue of await queuesOfInstance(deps, instance, 'instance_down')) {
    const resumed = await transitionWithMetrics(deps, queue, ['instance_down'], 'pending', {
      pausedAt: null,
      pauseReason: '',
      nextRunAt: null,
    });
    if (!resumed) continue;
    moved += 1;
    await publishContinuation(deps, resumed);
  }
  return moved;
};
