import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyJson } from './local-stack.ts';

/** A callback the receiver got: the event id header and the parsed body. */
export interface ReceivedCallback {
  eventId: string;
  body: AnyJson;
}

/** A real ERP endpoint on 127.0.0.1 that answers 200 to every callback and keeps what it got. */
export const startCallbackReceiver = async () => {
  const received: ReceivedCallback[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        eventId: String(req.headers['x-billing-event-id'] ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
