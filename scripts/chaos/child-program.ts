import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: programs run from here, as `npm start` and `npm run simulator` do. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** How much of a program's latest output is kept in memory for banners and error messages. */
const TAIL_CHARS = 20_000;

/** Process groups started here and not yet exited, for `killAllPrograms`. */
const live = new Set<number>();

/** SIGKILLs every program still running (the chaos command is being interrupted). */
export const killAllPrograms = (): void => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
};

/** A TypeScript program of this repository running in its own process group. */
export interface ChildProgram {
  pid: number;
  /** Resolves with the first match of `pattern` in the output; rejects if the program exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Signals the whole process group (the program and anything it started) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** The last lines of its output, for error messages. */
  tail(lines?: number): string;
  /** Whether it has exited (killed or by itself). */
  exited(): boolean;
}

/**
 * Starts `node --import tsx <script>` detached (its own process group, so a SIGKILL of the group
 * leaves nothing behind and gives nothing a chance to clean up), appending everything it prints
 * to `logFile` under a header line.
 */
export const startProgram = (options: {
  script: string;
  args?: string[];
  env: Record<string, string | undefined>;
  logFile: string;
  label: string;
}): ChildProgram => {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid) live.add(child.pid);
  appendFileSync(
    options.logFile,
    `\n===== ${options.label}: pid ${child.pid} at ${new Date().toISOString()}\n`,
  );
  let output = '';
  let done = false;
  const closed = new Promise<void>((resolvePromise) =>
    child.on('close', (code, signal) => {
      done = true;
      live.delete(child.pid as number);
      appendFileSync(options.logFile, `===== ${options.label}: exited (${signal ?? `code ${code}`})\n`);
      resolvePromise();
    }),
  );
  const listeners = new Set<() => void>();
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    appendFileSync(options.logFile, text);
    output = (output + text).slice(-TAIL_CHARS);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  child.on('error', (error) => appendFileSync(options.logFile, `spawn error: ${error.message}\n`));

  const tail = (lines = 30) => output.split('\n').slice(-lines).join('\n');

  return {
    pid: child.pid as number,
    tail,
    exited: () => done,
    waitForOutput: (pattern, timeoutMs) =>
      new Promise((resolvePromise, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (error?: Error, match?: RegExpExecArray) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (match) resolvePromise(match);
          else reject(error);
        };
        const check = () => {
          const match = pattern.exec(output);
          if (match) finish(undefined, match);
        };
        timer = setTimeout(
          () =>
            finish(
              new Error(`${options.label}: no ${pattern} within ${timeoutMs} ms; last output:\n${tail()}`),
            ),
          timeoutMs,
        );
        void closed.then(() => {
          check();
          finish(new Error(`${options.label} exited before printing ${pattern}; last output:\n${tail()}`));
        });
        listeners.add(check);
        check();
      }),
    kill: async (signal) => {
      if (done) return;
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // The group is already gone.
      }
      await closed;
    },
  };
};
