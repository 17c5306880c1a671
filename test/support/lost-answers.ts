import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTestDynamoDbClient } from './dynalite.ts';

/**
 * A document client whose next matching request is carried out by the store (or refused by its
 * condition) and its answer then lost, as a timeout or a reset connection loses it: the SDK retries
 * it (the fault sits inside the retry loop, where every attempt passes) and the retry finds the
 * request's own write done, or refused again.
 * `matches` sees the command's name (`UpdateItemCommand`), its item's key and its input.
 */
export const clientLosingAnswers = (
  endpoint: string,
  matches: (command: string, key: { pk: string; sk: string }, input: Record<string, unknown>) => boolean,
) => {
  const lowLevel = createTestDynamoDbClient(endpoint);
  let loseNext = false;
  let lost = 0;
  lowLevel.middlewareStack.add(
    (next, context) => async (args) => {
      // Carried out either way: a success or a refusal (a failed condition), and then lost.
      const result = await next(args).then(
        (output) => ({ output }),
        (error: unknown) => ({ error }),
      );
      // Marshalled or not yet, depending on where lib-dynamodb's own step runs.
      type Attribute = string | { S?: string } | undefined;
      const input = args.input as { Key?: Record<string, Attribute>; Item?: Record<string, Attribute> };
      const text = (value: Attribute) => (typeof value === 'string' ? value : value?.S) ?? '';
      const item = input.Key ?? input.Item ?? {};
      const key = { pk: text(item.pk), sk: text(item.sk) };
      if (loseNext && matches(context.commandName ?? '', key, args.input as Record<string, unknown>)) {
        loseNext = false;
        lost += 1;
        throw Object.assign(new Error('the answer never came'), { name: 'TimeoutError' });
      }
      if ('error' in result) throw result.error;
      return result.output;
    },
    { step: 'deserialize', name: 'loseTheAnswer' },
  );
  return {
    client: DynamoDBDocumentClient.from(lowLevel),
    loseTheNextAnswer: () => {
      loseNext = true;
    },
    /** Answers lost so far: a test that lost none proves nothing. */
    lost: () => lost,
    close: () => lowLevel.destroy(),
  };
};
