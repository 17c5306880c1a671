import type { ConnectionState } from '../domain/tenant-types.ts';
import type { ReceiptStatus } from '../domain/types.ts';
import type { WebhookIgnoredReason } from './metrics.ts';

/**
 * What the WhatsApp gateway tells us about our messages and instances, in domain terms: the
 * gateway adapter reads its webhooks into these events (lib/adapters/gateway), and the intake use
 * case applies them (lib/app/apply-gateway-events.ts) without knowing the gateway's wire format.
 */

/**
 * How far one of our sends got: `server_ack` is WhatsApp's server taking the message (not a
 * delivery: the contact stays `sent`, but it is no longer stalled); the others move the contact.
 */
export type GatewayReceiptStatus = ReceiptStatus | 'server_ack';

/** A status report about a message we sent. */
export interface GatewayReceipt {
  kind: 'receipt';
  /** The id the gateway gave the message when it accepted our send. */
  messageId: string;
  status: GatewayReceiptStatus;
  /** When the gateway saw it (never after the moment it was read). */
  at: Date;
  /** The gateway's account of a failure, kept on the contact; only with `failed`. */
  error: string | undefined;
}

/** A message a debtor sent to one of our instances. */
export interface GatewayReply {
  kind: 'reply';
  /** The message's own id (a repeat of the same reply has the same id). */
  messageId: string;
  /** The sender's phone in E.164, when the gateway revealed it (a privacy id may hide it). */
  fromPhone: string | undefined;
  /** Who sent it as the history records an unmatched reply: the phone when known, else the gateway's opaque id. */
  sender: string;
  /** What the debtor wrote ('' for media without a caption). */
  text: string;
  /** The gateway's name of the content's type; a reply without text shows in the history as `[type]`. */
  contentType: string | undefined;
  /** The id of the message it quotes, when it quotes one. */
  quotedMessageId: string | undefined;
  at: Date;
  /**
   * When the debtor sent it, by WhatsApp (whole seconds, never after `at`): the same on every retry
   * of the webhook, unlike the time the gateway posts it. Undefined when the gateway did not say.
   */
  sentAt: Date | undefined;
}

/** The instance's connection to WhatsApp changed. */
export interface GatewayConnection {
  kind: 'connection';
  state: Exclude<ConnectionState, 'unknown'>;
  /** The gateway's own words for the change, quoted in the reason a stopped queue shows. */
  reportedAs: string;
}

/** A webhook, or a part of one, that carries nothing the service uses; counted by reason. */
export interface GatewayIgnored {
  kind: 'ignored';
  reason: WebhookIgnoredReason;
  detail: string;
}

export type GatewayEvent = GatewayReceipt | GatewayReply | GatewayConnection | GatewayIgnored;

/** One webhook of the gateway, read. */
export interface GatewayWebhook {
  /** What it reports, in order: at least one event (one `ignored` when nothing in it is usable). */
  events: [GatewayEvent, ...GatewayEvent[]];
  /** How the gateway labelled it (its event name and its own instance name), quoted for logs only. */
  label: { event: string; instance: string };
}
