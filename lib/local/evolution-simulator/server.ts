import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl } from './control-api.ts';
import { SimulatorControlError } from './control-error.ts';
import { handleEvolution, matchEvolutionRoute } from './evolution-routes.ts';
import { envelope, sendJson } from './http-io.ts';
import {
  injectFailures,
  instanceViews,
  markNotOnWhatsApp,
  resetSimulator,
  setAutoReply,
  setLatency,
  setState,
  setWebhookBehaviour,
  upsertInstance,
} from './instances.ts';
import { sentMessages } from './messages.ts';
import { reply } from './replies.ts';
import { createSimulatorState, type SimulatorState } from './state.ts';
import type { EvolutionSimulator, EvolutionSimulatorOptions } from './types.ts';

/** The path's segments, decoded; undefined when one is not valid percent-encoding. */
const decodeParts = (pathname: string): string[] | undefined => {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
};

/** Routes `/_sim/...` to the control API and the rest to Evolution's routes (404 for unknown ones). */
const routeRequest = (sim: SimulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const method = req.method ?? 'GET';
  const pathname = new URL(req.url ?? '/', 'http://simulator').pathname;
  const parts = decodeParts(pathname);
  if (parts?.[0] === '_sim') return handleControl(sim, req, res, method, parts.slice(1));
  const route = parts ? matchEvolutionRoute(method, parts) : undefined;
  if (!route) {
    sendJson(res, 404, envelope(404, 'Not Found', [`Cannot ${method} ${pathname}`]));
    return Promise.resolve();
  }
  return handleEvolution(sim, req, res, route);
};

/** Answers each request; a control misuse becomes `{error}`, anything else thrown a 500 envelope. */
const requestListener =
  (sim: SimulatorState) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    const answer = async (): Promise<void> => routeRequest(sim, req, res);
    answer().catch((error: unknown) => {
      // Closing aborts pending waits; their requests need no answer.
      if (sim.lifetime.signal.aborted) return;
      if (error instanceof SimulatorControlError)
        return sendJson(res, error.status, { error: error.message });
      sendJson(res, 500, envelope(500, 'Internal Server Error', (error as Error).message));
    });
  };

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

/** Stops the server: aborts pending waits, lets webhook work settle, drops held connections. */
const closeSimulator = async (sim: SimulatorState, server: Server): Promise<void> => {
  sim.lifetime.abort();
  await Promise.allSettled([...sim.inFlight]);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Held `timeout` sockets and idle keep-alive sockets would otherwise keep close() waiting.
  server.closeAllConnections();
  await closed;
};

/** The object tests and scripts drive: the control API as methods. */
const simulatorHandle = (sim: SimulatorState, server: Server, port: number): EvolutionSimulator => ({
  url: sim.serverUrl,
  port,
  apiKey: sim.apiKey,
  close: () => closeSimulator(sim, server),
  upsertInstance: (name, options) => upsertInstance(sim, name, options),
  removeInstance: (name) => sim.instances.delete(name),
  setState: (name, state) => setState(sim, name, state),
  setWebhookBehaviour: (name, behaviour) => setWebhookBehaviour(sim, name, behaviour),
  reply: (input) => reply(sim, input),
  webhookDeliveries: () => sim.deliveries.map((d) => ({ ...d })),
  pendingWebhooks: () => sim.inFlight.size,
  setLatency: (ms, instance) => setLatency(sim, ms, instance),
  injectFailures: (injection) => injectFailures(sim, injection),
  markNotOnWhatsApp: (numbers) => markNotOnWhatsApp(sim, numbers),
  setAutoReply: (number, autoReply) => setAutoReply(sim, number, autoReply),
  sent: () => sentMessages(sim),
  clearSent: () => {
    sim.log = [];
  },
  reset: () => resetSimulator(sim),
  instances: () => instanceViews(sim),
});

/** Starts the simulator on `host:port` (port 0 = any free port). */
export const startEvolutionSimulator = async (
  options: EvolutionSimulatorOptions = {},
): Promise<EvolutionSimulator> => {
  const host = options.host ?? '127.0.0.1';
  const sim = createSimulatorState(options);
  resetSimulator(sim);
  const server = createServer(requestListener(sim));
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  sim.serverUrl = `http://${urlHost}:${port}`;
  return simulatorHandle(sim, server, port);
};
