import { join } from 'node:path';
import { type ChildProgram, startProgram } from './child-program.ts';
import { freePort } from './free-port.ts';

/** The simulator's global apikey (its default, in the README; its banner does not print it). */
export const SIMULATOR_API_KEY = 'simulator-api-key';

export interface SimulatorProcess {
  program: ChildProgram;
  url: string;
}

/**
 * `npm run simulator`'s program in its own process on a free port: the gateway of a chaos run,
 * apart from the stack so that its log of accepted sends outlives every kill. Every call takes
 * `latencyMs` more, so a kill can land between a send leaving and its answer coming back.
 */
export const startSimulatorProcess = async (options: {
  workDir: string;
  latencyMs: number;
  env: NodeJS.ProcessEnv;
  startTimeoutMs: number;
}): Promise<SimulatorProcess> => {
  const program = startProgram({
    script: 'lib/local/simulator-main.ts',
    env: { ...options.env, SIMULATOR_PORT: String(await freePort()), HOST: '127.0.0.1' },
    logFile: join(options.workDir, 'simulator.log'),
    label: 'simulator',
  });
  try {
    const url = (
      await program.waitForOutput(/simulator at (http:\/\/\S+)/, options.startTimeoutMs)
    )[1] as string;
    const probe = await fetch(`${url}/instance/connectionState/demo`, {
      headers: { apikey: SIMULATOR_API_KEY },
    });
    if (probe.status !== 200)
      throw new Error(
        `the simulator refused apikey ${SIMULATOR_API_KEY} (${probe.status}): has its default changed?`,
      );
    const latency = await fetch(`${url}/_sim/latency`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: options.latencyMs }),
    });
    if (!latency.ok)
      throw new Error(`the simulator refused a latency of ${options.latencyMs} ms (${latency.status})`);
    return { program, url };
  } catch (error) {
    await program.kill('SIGKILL');
    throw error;
  }
};
