import { controlQueue } from '../lib/app/control-queue.ts';
import { startWorker } from '../lib/local/worker.ts';
import { fmt, machineLine, printTable, runIfMain, type TableRow } from './ingest.ts';
import { createInstanceTenants, startStackOnSimulator } from './instance-tenants.ts';

/**
 * Fairness benchmark (`npm run bench:fairness`): more instances holding work than pump slots. On
 * AWS the slots are the sender's invocations x the instances each runs at once; here they are the
 * local worker's SENDER_CONCURRENCY, with the same handler and the same hand-over: a run ends
 * after its budget and puts its queue at the back of the work queue. Every instance must get its
 * turn within a bounded time: (instances / slots) rounds of one budget plus the hand-over.
 */

const INSTANCES = 30;
const SLOTS = 3;
const PER_MINUTE = 60;
const BUDGET_SECONDS = 3;
const WINDOW_MS = 60_000;
/** More than an instance can send in the window, so none runs dry. */
const CONTACTS_PER_QUEUE = 70;
/** Slack per round for the hand-over: the continuation's publish and the next run's lease and reads. */
const HANDOVER_ALLOWANCE_MS = 1000;

/** Runs the fairness benchmark and prints its table; resolves to the exit code (1 = an instance starved). */
export const runFairness = async (): Promise<number> => {
  const { simulator, stackBench, accepted } = await startStackOnSimulator({
    SENDER_CONCURRENCY: String(SLOTS),
    SENDER_BUDGET_SECONDS: String(BUDGET_SECONDS),
  });
  const c = stackBench.stack.container;
  try {
    console.log(machineLine());
    console.log(
      `fairness bench: ${INSTANCES} instances at ${PER_MINUTE}/min, ${SLOTS} pump slots, ${BUDGET_SECONDS} s budget, ${WINDOW_MS / 1000} s`,
    );
    const tenants = await createInstanceTenants(c, {
      label: 'fair',
      count: INSTANCES,
      contacts: CONTACTS_PER_QUEUE,
      config: { messagesPerMinute: PER_MINUTE, minIntervalSeconds: 1, jitterSeconds: 0 },
      simulator,
      apiUrl: stackBench.stack.url,
      firstBatchNo: 400,
    });
    accepted.length = 0;
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const worker = await startWorker(c);
    // A measuring window, not a wait for an outcome: the figures are what happened inside it.
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const cpu = process.cpuUsage(cpuBefore);
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    for (const t of tenants) await controlQueue(c, t.tenantId, t.queueId, 'pause');
    await worker.stop();

    const inWindow = accepted.filter((a) => a.at - t0 < WINDOW_MS);
    const perInstance = tenants.map((t) =>
      inWindow.filter((a) => a.instance === t.instanceName).map((a) => a.at),
    );
    const progressed = perInstance.filter((times) => times.length > 0).length;
    const firstSendS = perInstance.map((times) => ((times[0] ?? Number.POSITIVE_INFINITY) - t0) / 1000);
    // The longest an instance with work waited between two of its sends: the time between its turns.
    const longestGapS =
      Math.max(
        ...perInstance.map((times) => Math.max(0, ...times.slice(1).map((t, i) => t - (times[i] as number)))),
      ) / 1000;
    const boundS = (Math.ceil(INSTANCES / SLOTS) * (BUDGET_SECONDS * 1000 + HANDOVER_ALLOWANCE_MS)) / 1000;
    const capacity = (SLOTS * PER_MINUTE * WINDOW_MS) / 60_000;
    const cpuMsPerSend = (cpu.user + cpu.system) / 1000 / Math.max(1, inWindow.length);

    const rows: TableRow[] = [
      {
        figure: 'instances that sent in the window',
        target: `${INSTANCES} of ${INSTANCES}`,
        measured: `${progressed}`,
        pass: progressed === INSTANCES,
      },
      {
        figure: 'latest first send after worker start',
        target: `<= ${fmt(boundS, 0)} s`,
        measured: `${fmt(Math.max(...firstSendS), 1)} s`,
        pass: Math.max(...firstSendS) <= boundS,
      },
      {
        figure: 'longest wait between two turns of an instance',
        target: `<= ${fmt(boundS, 0)} s`,
        measured: `${fmt(longestGapS, 1)} s`,
        pass: longestGapS <= boundS,
      },
      {
        // Above slots x pace: a run's first send goes at once when its instance's last one is older
        // than the interval (each instance still keeps its own pace).
        figure: 'messages sent in the window',
        target: '',
        measured: `${inWindow.length} (${SLOTS} slots x ${PER_MINUTE}/min would be ${capacity})`,
      },
      {
        figure: 'process CPU per send (API, worker and embedded DynamoDB together; the simulator runs apart)',
        target: '',
        measured: `${fmt(cpuMsPerSend, 1)} ms`,
      },
      { figure: 'process RSS at the end of the window', target: '', measured: `${fmt(rssMb, 0)} MB` },
    ];
    printTable('Fairness', rows);
    const fair = rows.every((r) => r.pass !== false);
    console.log(
      `fairness: ${progressed}/${INSTANCES} instances progressed with ${SLOTS} slots, longest wait ${fmt(longestGapS, 1)} s (bound ${fmt(boundS, 0)} s)`,
    );
    return fair ? 0 : 1;
  } finally {
    await stackBench.close();
    await simulator.close();
  }
};

runIfMain(import.meta.url, runFairness);
