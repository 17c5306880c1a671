/**
 * The control API under `/_sim/` (no apikey): what tests and scripts drive over HTTP, the same
 * operations as the methods of the started simulator. A misuse answers `{error}` with 400 or 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimulatorControlError } from './control-error.ts';
import { isRecord, parseJson, readBody, sendJson } from './http-io.ts';
import {
  checkState,
  injectFailures,
  instanceViews,
  markNotOnWhatsApp,
  requireInstance,
  resetSimulator,
  setAutoReply,
  setLatency,
  setState,
  upsertInstance,
} from './instances.ts';
import { sentMessages } from './messages.ts';
import { reply } from './replies.ts';
import type { SimulatorState } from './state.ts';
import type {
  SimFailureInjection,
  SimFailureKind,
  SimInstanceSeed,
  SimReplyInput,
  SimWebhookBehaviour,
} from './types.ts';

type ControlBody = Record<string, unknown>;

interface ControlCall {
  sim: SimulatorState;
  res: ServerResponse;
  body: ControlBody;
  /** The instance of an `instances/{name}` route ('' elsewhere). */
  name: string;
}

interface ControlRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** The first path segment after `/_sim/`. */
  area: string;
  /** The route takes an instance name as its second segment. */
  named?: true;
  /** The segment after the name. */
  sub?: string;
  handle: (call: ControlCall) => void | Promise<void>;
}

/** A body field that may be absent; a 400 when present and not a string. */
const optionalString = (body: ControlBody, field: string): string | undefined => {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SimulatorControlError(400, `${field} must be a string`);
  return value;
};

const noContent = (res: ServerResponse): void => {
  res.writeHead(204).end();
};

const seedFromBody = (body: ControlBody): Omit<SimInstanceSeed, 'name'> => {
  const seed: Omit<SimInstanceSeed, 'name'> = {};
  if (body.state !== undefined) seed.state = checkState(body.state);
  const token = optionalString(body, 'apiKey');
  if (token !== undefined) seed.apiKey = token;
  const webhookUrl = optionalString(body, 'webhookUrl');
  if (webhookUrl !== undefined) seed.webhookUrl = webhookUrl;
  if (body.webhookHeaders !== undefined) {
    if (
      !isRecord(body.webhookHeaders) ||
      Object.values(body.webhookHeaders).some((v) => typeof v !== 'string')
    )
      throw new SimulatorControlError(400, 'webhookHeaders must be an object of strings');
    seed.webhookHeaders = body.webhookHeaders as Record<string, string>;
  }
  if (body.webhook !== undefined) seed.webhook = body.webhook as Partial<SimWebhookBehaviour>;
  return seed;
};

const injectionFromBody = (body: ControlBody): SimFailureInjection => {
  if (body.count !== undefined && typeof body.count !== 'number') {
    throw new SimulatorControlError(400, 'count must be a positive integer');
  }
  const injection: SimFailureInjection = { kind: body.kind as SimFailureKind };
  const instance = optionalString(body, 'instance');
  if (instance !== undefined) injection.instance = instance;
  if (typeof body.count === 'number') injection.count = body.count;
  return injection;
};

const replyFromBody = (body: ControlBody): SimReplyInput => {
  const input: SimReplyInput = {
    instance: optionalString(body, 'instance') ?? '',
    number: optionalString(body, 'number') ?? '',
    text: optionalString(body, 'text') ?? '',
    quote: body.quote === true,
    lid: body.lid === true,
  };
  const id = optionalString(body, 'id');
  if (id !== undefined) input.id = id;
  return input;
};

const CONTROL_ROUTES: readonly ControlRoute[] = [
  { method: 'GET', area: 'instances', handle: ({ sim, res }) => sendJson(res, 200, instanceViews(sim)) },
  {
    method: 'POST',
    area: 'instances',
    named: true,
    handle: ({ sim, res, body, name }) => sendJson(res, 200, upsertInstance(sim, name, seedFromBody(body))),
  },
  {
    method: 'DELETE',
    area: 'instances',
    named: true,
    handle: ({ sim, res, name }) => {
      requireInstance(sim, name);
      sim.instances.delete(name);
      noContent(res);
    },
  },
  {
    method: 'POST',
    area: 'instances',
    named: true,
    sub: 'state',
    handle: ({ sim, res, body, name }) => sendJson(res, 200, setState(sim, name, checkState(body.state))),
  },
  {
    method: 'POST',
    area: 'latency',
    handle: ({ sim, res, body }) => {
      if (typeof body.ms !== 'number')
        throw new SimulatorControlError(400, 'ms must be a non-negative integer');
      setLatency(sim, body.ms, optionalString(body, 'instance'));
      sendJson(res, 200, { ms: body.ms, instance: optionalString(body, 'instance') ?? null });
    },
  },
  {
    method: 'POST',
    area: 'failures',
    handle: ({ sim, res, body }) => {
      const injection = injectionFromBody(body);
      injectFailures(sim, injection);
      sendJson(res, 200, {
        queued: injection.count ?? 1,
        kind: injection.kind,
        instance: injection.instance ?? null,
      });
    },
  },
  {
    method: 'POST',
    area: 'not-on-whatsapp',
    handle: ({ sim, res, body }) => {
      markNotOnWhatsApp(sim, body.numbers as string[]);
      sendJson(res, 200, { numbers: sim.notOnWhatsApp.size });
    },
  },
  {
    method: 'POST',
    area: 'auto-replies',
    handle: ({ sim, res, body }) => {
      // `text: null` stops the number's automatic answer.
      setAutoReply(
        sim,
        body.number as string,
        body.text === null ? null : { text: body.text as string, afterMs: (body.afterMs ?? 0) as number },
      );
      sendJson(res, 200, { numbers: sim.autoReplies.size });
    },
  },
  {
    method: 'POST',
    area: 'replies',
    handle: async ({ sim, res, body }) => sendJson(res, 200, await reply(sim, replyFromBody(body))),
  },
  { method: 'GET', area: 'webhooks', handle: ({ sim, res }) => sendJson(res, 200, sim.deliveries) },
  {
    method: 'DELETE',
    area: 'webhooks',
    handle: ({ sim, res }) => {
      sim.deliveries = [];
      noContent(res);
    },
  },
  { method: 'GET', area: 'sent', handle: ({ sim, res }) => sendJson(res, 200, sentMessages(sim)) },
  {
    method: 'DELETE',
    area: 'sent',
    handle: ({ sim, res }) => {
      sim.log = [];
      noContent(res);
    },
  },
  {
    method: 'POST',
    area: 'reset',
    handle: ({ sim, res }) => {
      resetSimulator(sim);
      noContent(res);
    },
  },
];

/** A request under `/_sim/` (`parts` are the path segments after it); throws SimulatorControlError on misuse. */
export const handleControl = async (
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  parts: string[],
): Promise<void> => {
  const parsed = parseJson(await readBody(req));
  if (!parsed.ok) throw new SimulatorControlError(400, `invalid JSON: ${parsed.error}`);
  const body = isRecord(parsed.value) ? parsed.value : {};
  const [area, name, sub] = parts;
  const route = CONTROL_ROUTES.find(
    (r) =>
      r.method === method && r.area === area && (r.named === true) === (name !== undefined) && r.sub === sub,
  );
  if (!route) return sendJson(res, 404, { error: `no control route ${method} /_sim/${parts.join('/')}` });
  await route.handle({ sim, res, body, name: name ?? '' });
};
