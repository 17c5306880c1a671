/** Polls `check` until it returns a value (not undefined or false); fails naming `what` at the deadline. */
export const waitUntil = async <T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs: number; intervalMs?: number; what: string | (() => string) },
): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      // The stack may be restarting: keep polling until the deadline.
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  const what = typeof options.what === 'function' ? options.what() : options.what;
  throw new Error(
    `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
  );
};
