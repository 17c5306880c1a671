import { loadConfig } from '../lib/config.ts';
import { readStackInfo, startLocalStack } from '../lib/local/local-stack.ts';
import { startWorker, type Worker } from '../lib/local/worker.ts';
import { countDynamoRequests } from './ingest.ts';
import { stampedGateway } from './instance-tenants.ts';
import { isClaim } from './request-kind.ts';

/*
 * The sender in a process of its own, joined to the bench's stack as `npm run worker` joins
 * `npm run api`: on AWS the sender is a function of its own, so its pacing does not share an event
 * loop with the API and the store. bench/send.ts forks it for the "sender apart" accuracy runs.
 *
 * Speaks to its parent over IPC, every time on the shared high-resolution timeline
 * (`performance.timeOrigin + performance.now()`, ms):
 * - `{ kind: 'ready' }` once attached; the parent then sends `{ kind: 'start' }` and `{ kind: 'stop' }`;
 * - `{ kind: 'started' }`, then `{ kind: 'call', instance, at }` when the pump calls the gateway and
 *   `{ kind: 'departure', instance, at }` when that call's request leaves for it;
 * - `{ kind: 'stopped', calls }` once the worker stopped: the store requests since the start, with
 *   their timings (`{ calledAt, endedAt, claim }`).
 * It exits on `{ kind: 'close' }` or when its parent goes away.
 */

const env = JSON.parse(process.env.SENDER_PROCESS_ENV ?? '{}') as Record<string, string>;
const config = loadConfig(env);
const owner = await readStackInfo(config.DATA_DIR);
if (!owner) throw new Error(`sender process: no running stack in ${config.DATA_DIR}`);
const stack = await startLocalStack(config, {}, { api: false, worker: false, attachTo: owner });
const c = stack.container;

const send = (message: unknown) => process.send?.(message);
const sharedNow = () => performance.timeOrigin + performance.now();

c.gateway = stampedGateway(c.gateway, (moment, instance) =>
  send({ kind: moment, instance, at: sharedNow() }),
);
const counter = countDynamoRequests(c.dynamo, true);

let worker: Worker | undefined;
let mark = 0;
process.on('message', async (message: { kind?: string }) => {
  if (message.kind === 'start') {
    mark = counter.mark();
    worker = await startWorker(c);
    send({ kind: 'started' });
  } else if (message.kind === 'stop') {
    await worker?.stop();
    worker = undefined;
    const calls = counter.callsSince(mark);
    const toShared = performance.timeOrigin;
    send({
      kind: 'stopped',
      calls: calls.map((call) => ({
        calledAt: call.calledAt + toShared,
        endedAt: call.endedAt + toShared,
        claim: isClaim(call.command, call.input),
      })),
    });
  } else if (message.kind === 'close') {
    await worker?.stop();
    await stack.close();
    process.exit(0);
  }
});
process.on('disconnect', () => void stack.close().then(() => process.exit(0)));
send({ kind: 'ready' });
