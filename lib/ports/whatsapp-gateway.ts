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
  /**
   * Sends a text; `number` is digits only (E.164 without +). Never throws for gateway answers.
   * `onRequestLeft` is called, synchronously, the moment the request is written to the connection:
   * the interval WhatsApp sees runs from there, not from the call (the pump paces its floor by it).
   * An adapter that cannot tell never calls it.
   */
  sendText(
    target: GatewayTarget,
    number: string,
    text: string,
    onRequestLeft?: () => void,
  ): Promise<SendOutcome>;
  /** The instance's connection state; `unknown` when the gateway cannot be asked. */
  connectionState(target: GatewayTarget): Promise<GatewayConnectionState>;
}
