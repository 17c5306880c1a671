import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamoDb {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * DynamoDB emulator (dynalite) in this process: persisted in LevelDB under `path`, in memory
 * without it. LevelDB locks its folder, so one process owns a data dir; others reach it through
 * the HTTP endpoint this serves.
 */
export const startEmbeddedDynamoDb = async (options: {
  path?: string;
  port?: number;
  host?: string;
  /**
   * When `port` is taken, listen on a free one instead of failing. The same server retries: a
   * second dynalite on `path` would find the folder locked by the first ("Database is closed").
   */
  anyPortIfTaken?: boolean;
}): Promise<EmbeddedDynamoDb> => {
  const host = options.host ?? '127.0.0.1';
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  }) as Server;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(options.port ?? 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.anyPortIfTaken) {
      server.close();
      throw error;
    }
    await listen(0);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
};
