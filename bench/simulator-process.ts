import { startEvolutionSimulator } from '../lib/local/evolution-simulator/index.ts';

/*
 * The Evolution simulator in a process of its own, for the benches that time sends at the gateway
 * (bench/instance-tenants.ts forks it). A real gateway is another server: stamping arrivals in the
 * bench's own process would add the pump's, the store's and the API's event-loop work to every
 * arrival stamp, jitter no gateway sees. Here the stamp is taken on an otherwise idle event loop.
 *
 * Speaks to its parent over IPC: `{ kind: 'ready', url, apiKey }` once listening, then
 * `{ kind: 'accepted', instance, at }` for each accepted send, `at` on the shared high-resolution
 * timeline (`performance.timeOrigin + performance.now()`, ms). Instances are managed through the
 * simulator's own control API (`/_sim/instances/<name>`); it stops on `{ kind: 'close' }` or when
 * its parent goes away.
 */

const send = (message: unknown) => process.send?.(message);

const simulator = await startEvolutionSimulator({
  port: 0,
  onAccepted: (message) =>
    send({ kind: 'accepted', instance: message.instance, at: performance.timeOrigin + performance.now() }),
});
process.on('message', (message: { kind?: string }) => {
  if (message.kind === 'close') void simulator.close().then(() => process.exit(0));
});
process.on('disconnect', () => void simulator.close().then(() => process.exit(0)));
send({ kind: 'ready', url: simulator.url, apiKey: simulator.apiKey });
