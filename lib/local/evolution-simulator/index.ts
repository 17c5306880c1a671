/**
 * A real HTTP server that speaks the part of Evolution API v2 we use (shared/evolution-contract.md),
 * for local runs and integration tests: sendText, connectionState, whatsappNumbers, webhook/set and
 * webhook/find, with the same guard order, error envelopes, ids and Brazilian 9th-digit quirk; and,
 * for instances with a webhook, Evolution's webhooks (send.message, messages.update receipts,
 * scripted replies, connection.update) with its envelope, headers (incl. the `jwt_key` JWT) and
 * retries on 5xx. Test control lives under `/_sim/` (no apikey) and as methods on the returned object.
 *
 * It implements no port: the Evolution gateway adapter talks to it over HTTP as to a real server.
 */
export { SimulatorControlError } from './control-error.ts';
export { DEFAULT_WEBHOOK_BEHAVIOUR } from './instances.ts';
export { brazilianJidUser } from './jids.ts';
export { startEvolutionSimulator } from './server.ts';
export type {
  EvolutionSimulator,
  EvolutionSimulatorOptions,
  SimFailureInjection,
  SimFailureKind,
  SimInstanceSeed,
  SimInstanceState,
  SimInstanceView,
  SimReplyInput,
  SimSentMessage,
  SimWebhookBehaviour,
  SimWebhookDelivery,
} from './types.ts';
