import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_SIGNATURE_HEADER, verifyCallbackSignature } from '../../lib/domain/callback-signature.ts';
import { readDemoSigningSecret } from '../../lib/local/demo-key-file.ts';
import { digitsOf, type ReceivedCallback } from './tally.ts';

/**
 * The ERP's callback endpoint in a chaos run. It lives in the chaos process, which no kill
 * touches, so it hears every post the stack makes across all its restarts. Each post is checked
 * against the demo tenant's signing secret (the file `npm start` writes in its data dir) and
 * recorded by `event_id`; every post is answered 200, as a healthy ERP would.
 */
export interface CallbackReceiver {
  url: string;
  received(): ReceivedCallback[];
  badSignatures(): number;
  close(): Promise<void>;
}

export const startCallbackReceiver = async (stackDataDir: string): Promise<CallbackReceiver> => {
  const events = new Map<string, ReceivedCallback>();
  let bad = 0;
  let secret: string | undefined;
  const secretOf = async (): Promise<string> => {
    // Written by the stack's first start, before it can post anything.
    secret ??= await readDemoSigningSecret(stackDataDir);
    if (!secret) throw new Error(`no demo signing secret in ${stackDataDir}`);
    return secret;
  };

  const record = async (signature: string, body: string) => {
    if (!verifyCallbackSignature(signature, body, [await secretOf()], Math.floor(Date.now() / 1000))) {
      bad += 1;
      return;
    }
    const payload = JSON.parse(body) as {
      event_id: string;
      event: string;
      queue_id: string;
      contact: { telefone: string } | null;
    };
    const seen = events.get(payload.event_id);
    if (seen) seen.copies += 1;
    else
      events.set(payload.event_id, {
        eventId: payload.event_id,
        event: payload.event,
        queueId: payload.queue_id,
        phone: payload.contact ? digitsOf(payload.contact.telefone) : null,
        copies: 1,
      });
  };

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const signature = String(req.headers[CALLBACK_SIGNATURE_HEADER.toLowerCase()] ?? '');
      record(signature, body).then(
        () => res.writeHead(200).end(),
        () => {
          bad += 1;
          res.writeHead(200).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/erp/callbacks`,
    received: () => [...events.values()],
    badSignatures: () => bad,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
