import { connect } from 'amqplib';

/** The queues the local stack declares on RabbitMQ for a WORK_QUEUE_NAME (lib/local/local-stack.ts). */
export const brokerQueuesOf = (workQueueName: string): string[] => {
  const callbacks = `${workQueueName}-callbacks`;
  return [workQueueName, `${workQueueName}.dlq`, callbacks, `${callbacks}.dlq`];
};

/** Fails early, with how to start it, when the broker is not there. */
export const checkBroker = async (url: string): Promise<void> => {
  try {
    const connection = await connect(url, { timeout: 3_000 });
    await connection.close();
  } catch (error) {
    throw new Error(
      `RabbitMQ is not reachable at ${url.replace(/\/\/[^@]*@/, '//')} (${String(error)}); start it with \`rabbitmq-server -detached\``,
    );
  }
};

/** Deletes this run's queues (only those: other runs and tests share the broker). */
export const deleteBrokerQueues = async (url: string, workQueueName: string): Promise<void> => {
  const connection = await connect(url, { timeout: 3_000 });
  try {
    const channel = await connection.createChannel();
    for (const queue of brokerQueuesOf(workQueueName)) await channel.deleteQueue(queue);
  } finally {
    await connection.close();
  }
};
