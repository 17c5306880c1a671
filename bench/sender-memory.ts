import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { SENDER_BATCH_SIZE, SENDER_MEMORY_MB } from '../infra/sender-limits.ts';
import { createSqsClient } from '../lib/composition/queues.ts';
import { startEvolutionSimulator } from '../lib/local/evolution-simulator/index.ts';
import { fmt, machineLine, printTable, runIfMain, startBenchStack } from './ingest.ts';
import { createInstanceTenants } from './instance-tenants.ts';

/**
 * Sender memory (`npm run bench:sender-memory`, issue 12: 128 or 256 MB): the sender bundled as SST
 * bundles it (esbuild, `functions/sender.ts`, ESM with a `require` banner) runs in a process of its
 * own, as in a Lambda container, on the local stack's DynamoDB, SQS and Evolution simulator. It is
 * handed one SQS event with a batch of work items, one per instance (FIFO group), and runs them at
 * once for `BUDGET_SECONDS`, with INFO logs and EMF metrics (Lambda's settings). The child reports
 * its resident memory after init (the import, before the first event), the highest sample while the
 * batch ran (every 10 ms) and the kernel's high-water mark (`VmHWM`). Once with one group, once
 * with SENDER_BATCH_SIZE.
 */

/** Long enough for every pump to settle into its pace (60 sends each at 60/min). */
const BUDGET_SECONDS = 60;
const PER_MINUTE = 60;
/** Enough that no queue runs dry within the budget. */
const CONTACTS_PER_QUEUE = 80;

/**
 * Extra flags for the sender's node (`SENDER_NODE_FLAGS="--max-old-space-size=48"`): what it needs
 * when its heap may not grow as it likes, as under a smaller memory size.
 */
const NODE_FLAGS = (process.env.SENDER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

const SENDER_ENTRY = fileURLToPath(new URL('../functions/sender.ts', import.meta.url));

/** What the child prints: resident memory and JS heap, in MB. */
interface MemoryReport {
  initRssMb: number;
  initHeapMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  hwmMb: number;
  failures: number;
}

/** The child: imports the bundle (init), then runs one event, sampling its memory. Plain JS. */
const CHILD = `
import { readFileSync } from 'node:fs';
const mb = (n) => n / 2 ** 20;
const { handler } = await import(process.env.SENDER_BUNDLE);
const init = process.memoryUsage();
const event = JSON.parse(readFileSync(process.env.SENDER_EVENT, 'utf8'));
let peakRss = init.rss, peakHeap = init.heapUsed;
const timer = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 10);
const deadline = Date.now() + Number(process.env.REMAINING_MS);
const result = await handler(event, { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: 'memory' });
clearInterval(timer);
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
process.stderr.write('memory-report ' + JSON.stringify({
  initRssMb: mb(init.rss), initHeapMb: mb(init.heapUsed), peakRssMb: mb(peakRss), peakHeapMb: mb(peakHeap),
  hwmMb: mb(hwm), failures: result.batchItemFailures.length,
}) + '\\n');
process.exit(0);
`;

const runChild = (dir: string, env: Record<string, string>): Promise<MemoryReport> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, join(dir, 'child.mjs')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('exit', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('memory-report '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('memory-report '.length)) as MemoryReport);
      else reject(new Error(`sender child exited ${code}: ${err.slice(-2000)}`));
    });
  });

export const runSenderMemory = async (): Promise<number> => {
  console.log(machineLine());
  const dir = await mkdtemp(join(tmpdir(), 'sender-memory-'));
  const simulator = await startEvolutionSimulator({ port: 0 });
  const stackBench = await startBenchStack({
    env: { EVOLUTION_URL: simulator.url, EVOLUTION_API_KEY: simulator.apiKey },
    roles: { api: true, worker: false },
  });
  const c = stackBench.stack.container;
  const sqs = createSqsClient(c.config);
  try {
    const bundle = join(dir, 'sender.mjs');
    await build({
      entryPoints: [SENDER_ENTRY],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      // SST's banner: CommonJS dependencies in an ES module bundle still find `require`.
      banner: {
        js: "import { createRequire as topLevelCreateRequire } from 'module'; const require = topLevelCreateRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    await writeFile(join(dir, 'child.mjs'), CHILD);
    const bundleMb = (await stat(bundle)).size / 2 ** 20;
    console.log(
      `sender memory: bundle ${fmt(bundleMb, 1)} MB; batches of 1 and ${SENDER_BATCH_SIZE} instances at ${PER_MINUTE}/min for ${BUDGET_SECONDS} s; configured ${SENDER_MEMORY_MB} MB${NODE_FLAGS.length > 0 ? `; node ${NODE_FLAGS.join(' ')}` : ''}`,
    );
    const rows = [];
    for (const [round, groups] of [1, SENDER_BATCH_SIZE].entries()) {
      const tenants = await createInstanceTenants(c, {
        label: `mem${round}`,
        count: groups,
        contacts: CONTACTS_PER_QUEUE,
        config: { messagesPerMinute: PER_MINUTE, minIntervalSeconds: 1, jitterSeconds: 0 },
        simulator,
        apiUrl: stackBench.stack.url,
        firstBatchNo: 600 + round * 20,
      });
      // The work items as the event source mapping would hand them over: one batch, real receipts.
      const records: SQSRecord[] = [];
      while (records.length < groups) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: c.config.WORK_QUEUE_URL,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 600,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        // Only this round's queues (an earlier round's continuation waits behind its held record).
        for (const m of out.Messages ?? [])
          if (tenants.some((t) => m.Body?.includes(t.queueId)))
            records.push({
              messageId: m.MessageId ?? '',
              receiptHandle: m.ReceiptHandle ?? '',
              body: m.Body ?? '',
              attributes: m.Attributes as unknown as SQSRecord['attributes'],
              messageAttributes: {},
              md5OfBody: m.MD5OfBody ?? '',
              eventSource: 'aws:sqs',
              eventSourceARN: 'arn:aws:sqs:local:000000000000:work.fifo',
              awsRegion: 'local',
            });
      }
      const eventFile = join(dir, `event-${groups}.json`);
      await writeFile(eventFile, JSON.stringify({ Records: records }));
      const report = await runChild(dir, {
        SENDER_BUNDLE: bundle,
        SENDER_EVENT: eventFile,
        REMAINING_MS: String((BUDGET_SECONDS + 30) * 1000),
        AWS_LAMBDA_FUNCTION_NAME: 'sender',
        AWS_REGION: c.config.AWS_REGION,
        AWS_ENDPOINT_URL_DYNAMODB: c.config.endpoints.dynamodb ?? '',
        AWS_ENDPOINT_URL_SQS: c.config.endpoints.sqs ?? '',
        TABLE_NAME: c.config.TABLE_NAME,
        WORK_QUEUE_URL: c.config.WORK_QUEUE_URL ?? '',
        CALLBACK_QUEUE_URL: c.config.CALLBACK_QUEUE_URL ?? '',
        SCHEDULER_DRIVER: 'store',
        METRICS_DRIVER: 'emf',
        LOG_LEVEL: 'INFO',
        SENDER_BUDGET_SECONDS: String(BUDGET_SECONDS),
        EVOLUTION_API_KEY: simulator.apiKey,
      });
      if (report.failures > 0) throw new Error(`sender memory: ${report.failures} records failed`);
      rows.push({
        figure: `${groups} group${groups === 1 ? '' : 's'}: RSS after init / peak sampled / VmHWM (JS heap after init / peak)`,
        target: groups === SENDER_BATCH_SIZE ? '< 90 MB for 128 MB' : '',
        measured: `${fmt(report.initRssMb, 1)} / ${fmt(report.peakRssMb, 1)} / ${fmt(report.hwmMb, 1)} MB (${fmt(report.initHeapMb, 1)} / ${fmt(report.peakHeapMb, 1)} MB)`,
        pass: groups === SENDER_BATCH_SIZE ? report.hwmMb < 90 : undefined,
      });
    }
    printTable('Sender memory (bundled, own process)', rows);
    return 0;
  } finally {
    sqs.destroy();
    await stackBench.close();
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  }
};

runIfMain(import.meta.url, runSenderMemory);
