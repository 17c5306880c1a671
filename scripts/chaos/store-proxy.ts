import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the chaos run's DynamoDB: the stack reaches its store only through it, so
 * the run can give the stack the two faults a real DynamoDB has.
 *
 * - `cut()`: an outage. The port refuses connections and every open one is dropped mid-request;
 *   `restore()` listens on the same port again.
 * - `hold()`: a store that takes requests and does not answer. Every request still reaches the
 *   store and takes effect, but its answer is held back: the stack's request times out (5 s) and
 *   the SDK retries a write that has already happened, or, for a hold shorter than the timeout,
 *   the answer comes late. `release()` lets the held answers through to the connections the stack
 *   has not given up on; one it closed meanwhile never hears of its request.
 *
 * The data behind the proxy is untouched either way.
 */
export interface StoreProxy {
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

interface Connection {
  client: Socket;
  upstream: Socket;
  /** Answers the store gave while held, in order, for this connection's client. */
  heldAnswers: Buffer[];
  /** The store closed the connection after answers still held: the client is closed once they are out. */
  upstreamClosed: boolean;
}

export const startStoreProxy = async (target: { host: string; port: number }): Promise<StoreProxy> => {
  const open = new Set<Connection>();
  let holding = false;
  const drop = (connection: Connection) => {
    open.delete(connection);
    connection.heldAnswers = [];
    connection.client.destroy();
    connection.upstream.destroy();
  };
  const letThrough = (connection: Connection) => {
    for (const answer of connection.heldAnswers) connection.client.write(answer);
    connection.heldAnswers = [];
    if (connection.upstreamClosed) {
      open.delete(connection);
      // The answers out, the connection is over (the store closed its side long ago).
      connection.client.end(() => connection.client.destroy());
    }
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const connection: Connection = { client, upstream, heldAnswers: [], upstreamClosed: false };
    open.add(connection);
    client.on('error', () => drop(connection));
    client.on('close', () => drop(connection));
    upstream.on('error', () => drop(connection));
    upstream.on('close', () => {
      if (connection.heldAnswers.length === 0) return drop(connection);
      // The store closes an idle connection after a few seconds (its keep-alive timeout) while its
      // answers are still held. The client stays, reading (the pipe to the store is gone) so that
      // its own end is seen: a client that gave up is dropped with its answers.
      connection.upstreamClosed = true;
      client.resume();
    });
    client.pipe(upstream);
    upstream.on('data', (answer: Buffer) => {
      if (holding) connection.heldAnswers.push(answer);
      else client.write(answer);
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the store proxy has no port');
  const { port } = address;
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of open) drop(connection);
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    restore: () => listen(port),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const connection of open) letThrough(connection);
    },
    close: async () => {
      holding = false;
      if (server.listening) await cut();
    },
  };
};
