import { runIngest } from './ingest.ts';
import { runLoad } from './load.ts';
import { runSend } from './send.ts';

/**
 * `npm run bench`: the ingest benchmark, then the send benchmark, in this process, then the load
 * benchmark against `npm start` in a child process; exits 1 if any failed.
 */
const runAll = async (): Promise<number> => {
  const ingest = await runIngest();
  const send = await runSend();
  const load = await runLoad();
  return Math.max(ingest, send, load);
};

runAll().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
