import { costLines, runCost } from './cost.ts';
import { runFairness } from './fairness.ts';
import { fmt, runIngest } from './ingest.ts';
import { runLoad } from './load.ts';
import { runSend } from './send.ts';

/**
 * `npm run bench`: the ingest, send, fairness and cost benchmarks in this process, then the load
 * benchmark against `npm start` in a child process; ends with issue 12's four lines and exits 1 if
 * any failed.
 */
const runAll = async (): Promise<number> => {
  const ingest = await runIngest();
  const send = await runSend();
  const fairness = await runFairness();
  const cost = await runCost();
  const load = await runLoad();
  console.log('');
  for (const line of costLines(cost)) console.log(line);
  console.log(`ingest p50 / raw write p50: ${fmt(ingest.apiOverRaw, 2)}x`);
  return Math.max(ingest.code, send, fairness, cost.code, load);
};

runAll().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
