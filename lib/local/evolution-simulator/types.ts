/** The simulator's public types: what it is started with, what it answers, what tests script. */

export type SimInstanceState = 'open' | 'connecting' | 'close';

/** Scripted outcomes for the next sends (see `injectFailures`). */
export type SimFailureKind =
  | 'http500'
  | 'connection_closed'
  | 'timeout'
  | 'rate_overlimit'
  | 'not_on_whatsapp'
  | 'reset'
  /** The message goes out, then a reverse proxy in front answers 502 Bad Gateway (nginx HTML). */
  | 'proxy_502'
  /** The message goes out, then the proxy gives up waiting: 504 Gateway Time-out (nginx HTML). */
  | 'proxy_504'
  /** The message goes out, then a 500 HTML page without Evolution's envelope (Cloudflare). */
  | 'proxy_html'
  // Accepted (201 PENDING) but never acknowledged: no SERVER_ACK, DELIVERY_ACK or READ webhooks.
  | 'no_receipts';

export interface SimInstanceSeed {
  name: string;
  /** Default `open`. */
  state?: SimInstanceState;
  /** The instance's own token, accepted besides the global key (as Evolution does). */
  apiKey?: string;
  /** Where this instance posts its webhooks (none when absent). */
  webhookUrl?: string;
  /** Static headers of every webhook; `jwt_key` becomes `Authorization: Bearer <HS256 JWT>`, as in Evolution. */
  webhookHeaders?: Record<string, string>;
  /** Evolution event names to post (`MESSAGES_UPDATE`, ...); empty = all. */
  webhookEvents?: string[];
  /** Post to `<url>/<event-kebab>` (Evolution's "webhook by events"). */
  webhookByEvents?: boolean;
  /** How this instance's webhooks misbehave (merged into the current behaviour). */
  webhook?: Partial<SimWebhookBehaviour>;
}

/** Knobs of an instance's webhooks, to test a receiver against Evolution's real habits. */
export interface SimWebhookBehaviour {
  /** After an accepted send, when each receipt is posted (ms); null = never. Default 20, 40, 60. */
  serverAckMs: number | null;
  deliveryAckMs: number | null;
  readMs: number | null;
  /** Post every webhook twice, concurrently. */
  duplicate: boolean;
  /** READ goes out before DELIVERY_ACK (their delays swap). */
  reorder: boolean;
  /** Also post each send as a `messages.upsert` with `fromMe: true` (as typed on the linked phone). */
  echoFromMe: boolean;
  /** Retries after a 5xx or a network error (Evolution: 10). */
  maxRetries: number;
  /**
   * First wait before a retry, doubling, capped at 1 s or at this first wait when it is longer
   * (Evolution waits 5 s .. 300 s: 5000 gives ten retries 5 s apart).
   */
  retryBackoffMs: number;
  /**
   * The envelope's `apikey` is the instance's token, as with `AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true`;
   * by default it is `null`, as real 2.x servers send it.
   */
  exposeApiKey: boolean;
  /**
   * The server's zone offset (minutes east of UTC) for `date_time`, which Evolution writes as local
   * wall-clock time with a `Z` suffix; null = this process's zone, as a real server does.
   */
  utcOffsetMinutes: number | null;
}

/** One attempt to post a webhook. */
export interface SimWebhookDelivery {
  instance: string;
  event: string;
  url: string;
  attempt: number;
  /** HTTP status, or null when the request failed (refused, timed out). */
  status: number | null;
  at: string;
  /** `data.keyId` or `data.key.id` when the event has one. */
  messageId?: string;
}

/** An automatic answer of a phone (see `setAutoReply`): posted as that phone's reply, unquoted. */
export interface SimAutoReply {
  text: string;
  /** How long after each accepted send the answer is posted (ms). */
  afterMs: number;
}

/** A debtor's reply, posted as `messages.upsert` (see `reply`). */
export interface SimReplyInput {
  instance: string;
  /** Digits of the phone that replies (either 9th-digit spelling). */
  number: string;
  text: string;
  /** Quote the last message sent to this number (`contextInfo.stanzaId`). */
  quote?: boolean;
  /** Send as an `@lid` sender with the phone JID in `remoteJidAlt`. */
  lid?: boolean;
  /** The reply's `key.id` (default: a new one); reuse one to replay a reply. */
  id?: string;
}

export interface SimInstanceView {
  name: string;
  instanceId: string;
  state: SimInstanceState;
  webhookUrl?: string;
  /** Names only: the values may be secrets. */
  webhookHeaderNames: string[];
  webhookEvents: string[];
  webhookByEvents: boolean;
  webhook: SimWebhookBehaviour;
  /** This instance's latency override; undefined = the global latency. */
  latencyMs?: number;
  pendingFailures: SimFailureKind[];
}

/** One send the simulator accepted (answered 201, or swallowed by a scripted `timeout`). */
export interface SimSentMessage {
  instance: string;
  number: string;
  text: string;
  id: string;
  remoteJid: string;
  /** ISO-8601 time of acceptance. */
  at: string;
}

export interface SimFailureInjection {
  /** Only this instance's sends; without it, the next sends of any instance. */
  instance?: string;
  kind: SimFailureKind;
  /** How many sends fail this way; default 1. */
  count?: number;
}

export interface EvolutionSimulatorOptions {
  port?: number;
  host?: string;
  /** The global apikey. */
  apiKey?: string;
  /** Default: one instance `demo`, `open`. */
  instances?: SimInstanceSeed[];
  /** Called for every accepted send (the webhooks of the instance, if any, go out as well). */
  onAccepted?: (message: SimSentMessage, instance: SimInstanceView) => void;
  /**
   * The wall clock of its timestamps (sends, webhook envelopes, JWTs), in ms since the epoch; default
   * `Date.now`. The cost bench gives it the stack's fast-forwarded clock, so receipts are not dated
   * minutes before the sends they acknowledge.
   */
  now?: () => number;
}

export interface EvolutionSimulator {
  url: string;
  port: number;
  apiKey: string;
  /** Stops the server, dropping held connections. */
  close(): Promise<void>;
  /** Creates the instance, or updates the given fields of an existing one. */
  upsertInstance(name: string, options?: Omit<SimInstanceSeed, 'name'>): SimInstanceView;
  /** Removes an instance; false when it did not exist. */
  removeInstance(name: string): boolean;
  /** Sets an existing instance's connection state; a change posts `connection.update` to its webhook. */
  setState(name: string, state: SimInstanceState): SimInstanceView;
  /** Changes how an instance's webhooks behave (duplicates, reordering, echoes, receipt timing). */
  setWebhookBehaviour(name: string, behaviour: Partial<SimWebhookBehaviour>): SimInstanceView;
  /**
   * Posts a debtor's reply to the last message sent to `number` on the instance; resolves with the
   * reply's id and the final HTTP status of its delivery (null: no webhook, or it never got through).
   */
  reply(input: SimReplyInput): Promise<{ id: string; status: number | null }>;
  /** Every webhook attempt so far, oldest first. */
  webhookDeliveries(): SimWebhookDelivery[];
  /** Webhooks scheduled or being posted (receipts waiting for their delay, retries). */
  pendingWebhooks(): number;
  /** Extra time before every API answer, globally or for one instance. */
  setLatency(ms: number, instance?: string): void;
  /** Queues scripted outcomes for the next sends. */
  injectFailures(injection: SimFailureInjection): void;
  /** These numbers (digits) answer "not on WhatsApp" from now on (either 9th-digit variant). */
  markNotOnWhatsApp(numbers: string[]): void;
  /**
   * `number` (digits, either 9th-digit spelling) answers every message sent to it, as a WhatsApp
   * Business account's automatic greeting or away message does; null stops it.
   */
  setAutoReply(number: string, autoReply: SimAutoReply | null): void;
  /** Every accepted send so far, oldest first. */
  sent(): SimSentMessage[];
  clearSent(): void;
  /** Back to the starting instances, with no log, latency, failures, unknown numbers or automatic replies. */
  reset(): void;
  instances(): SimInstanceView[];
}
