import { runFairness } from './fairness.ts';
import { runIngest } from './ingest.ts';
import { runLoad } from './load.ts';
import { runSend } from './send.ts';

/**
 * `npm run bench`: the ingest, send and fairness benchmarks, in this process, then the load
 * benchmark against `npm start` in a child process; exits 1 if any failed.
 */
const runAll = async (): Promise<number> => {
  const ingest = await runIngest();
  const send = await runSend();
  const fairness = await runFairness();
  const load = await runLoad();
  return Math.max(ingest, send, fairness, load);
};

runAll().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
