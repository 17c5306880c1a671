import { startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';

/**
 * The embedded DynamoDB alone, on a data dir and a port (`dynamodb-main.ts <path> <port>`), for a
 * chaos run with store outages: apart from the stack, so that an outage cuts the stack off from its
 * store without touching the data, and a kill of the stack leaves the store running.
 */
const [path, port] = process.argv.slice(2);
if (!path || !port) {
  console.error('usage: dynamodb-main.ts <data path> <port>');
  process.exit(2);
}
const db = await startEmbeddedDynamoDb({ path, port: Number(port) });
console.log(`dynamodb at ${db.endpoint}`);
const stop = async (): Promise<void> => {
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
