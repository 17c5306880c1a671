import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTestDynamoDbClient } from './dynalite.ts';

/**
 * A document client whose next matching request is carried out by the store (or refused by its
 * condition) and its answer then lost, as a timeout or a reset connection loses it: the SDK retries
 * it (the fault sits inside the retry loop, where every attempt passes) and the retry finds the
 * request's own write done, or refused again.
 * `matches` sees the command's name (`UpdateItemCommand`) and its item's sort key.
 */
export const clientLosingAnswers = (
  endpoint: string,
  matches: (command: string, sortKey: string) => boolean,
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
      const input = args.input as {
        Key?: { sk?: string | { S?: string } };
        Item?: { sk?: string | { S?: string } };
      };
      const sk = input.Key?.sk ?? input.Item?.sk;
      const sortKey = (typeof sk === 'string' ? sk : sk?.S) ?? '';
      if (loseNext && matches(context.commandName ?? '', sortKey)) {
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
