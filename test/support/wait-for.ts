/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. Never a blind sleep. */
export const waitFor = async <T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<T> => {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
  // A function names the condition as it stands at the deadline (e.g. the last progress seen).
  const what = typeof options.what === 'function' ? options.what() : (options.what ?? 'condition');
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
};
