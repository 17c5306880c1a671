/**
 * A sleep that ends early when the process stops: only for waits with nothing claimed (before a
 * claim, or for retries), never between a claim and its send.
 */
export const stoppableSleep =
  (sleep: (ms: number) => Promise<void>, signal: AbortSignal | undefined) =>
  (ms: number): Promise<void> => {
    if (!signal) return sleep(ms);
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      // One signal serves every run of the worker: each sleep takes its listener back.
      void sleep(ms).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  };
