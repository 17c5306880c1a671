import { ConfigError, loadConfig } from '../config.ts';
import { startEvolutionSimulator } from './evolution-simulator/index.ts';

/** `npm run simulator`: the Evolution API simulator alone (SIMULATOR_PORT, default 8081), until Ctrl-C. */
const main = async (): Promise<void> => {
  const config = loadConfig();
  const sim = await startEvolutionSimulator({ port: config.SIMULATOR_PORT, host: config.HOST });
  console.log(
    [
      `Evolution API simulator at ${sim.url} (instance "demo", open)`,
      '  apikey:   the simulator default (see startEvolutionSimulator)',
      `  control:  ${sim.url}/_sim/instances, /_sim/sent, /_sim/failures, /_sim/reset`,
    ].join('\n'),
  );
  const stop = async (): Promise<void> => {
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
};

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
