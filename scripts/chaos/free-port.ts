import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

/**
 * A TCP port nobody listens on right now. The stack keeps it across its restarts, so the ERP
 * client retries against one address, as it would against a real deployment.
 */
export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
