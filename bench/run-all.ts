import { runIngest } from './ingest.ts';
import { runSend } from './send.ts';

/** `npm run bench`: the ingest benchmark, then the send benchmark, in this process; exits 1 if either failed. */
const runAll = async (): Promise<number> => {
  const ingest = await runIngest();
  const send = await runSend();
  return Math.max(ingest, send);
};

runAll().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
