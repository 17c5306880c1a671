/** Outcome of one send, classified for the retry rules (issue: permanent, transient, unknown). */
export type SendOutcome =
  /** Accepted by the gateway (201 PENDING): not yet delivered. */
  | { kind: 'sent'; messageId: string; remoteJid: string }
  /** Will never work: not on WhatsApp, invalid number, rejected text. */
  | { kind: 'permanent'; reason: string }
  /** May work later: the gateway's own 5xx ("Connection Closed"), connection refused, rate-overlimit. */
  | { kind: 'transient'; reason: string; rateLimited: boolean }
  /**
   * The request may have reached the gateway but no usable answer came (timeout, a proxy's 502/504
   * or error page): never resent blindly.
   */
  | { kind: 'unknown'; reason: string };

export type GatewayConnectionState = 'open' | 'connecting' | 'close' | 'unknown';

/** Where and how to reach one WhatsApp instance (credentials already resolved). */
export interface GatewayTarget {
  baseUrl: string;
  instanceName: string;
  apiKey: string;
}

export interface WhatsAppGateway {
  /** Sends a text; `number` is digits only (E.164 without +). Never throws for gateway answers. */
  sendText(target: GatewayTarget, number: string, text: string): Promise<SendOutcome>;
  /** The instance's connection state; `unknown` when the gateway cannot be asked. */
  connectionState(target: GatewayTarget): Promise<GatewayConnectionState>;
}
