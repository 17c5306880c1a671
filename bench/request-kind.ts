/**
 * What a DynamoDB request was for, from its marshalled input: the store's requests labelled by key
 * shape, for the send bench's requests by kind and the cost bench's write units by kind.
 */

// biome-ignore lint/suspicious/noExplicitAny: marshalled SDK inputs, read for labels only
type AnyInput = any;

/**
 * The claim is the one UpdateItem that sets `claimedAt` (dynamodb-sending-store.ts, claimContact).
 * The send's record names `claimedAt` too, in its condition only (still this very claim), so the
 * name's placeholder must be assigned in the update expression, not merely present.
 */
export const isClaim = (command: string, input: unknown): boolean => {
  if (command !== 'UpdateItemCommand') return false;
  const request = input as AnyInput;
  const names: Record<string, string> = request?.ExpressionAttributeNames ?? {};
  const update = String(request?.UpdateExpression ?? '');
  return Object.entries(names).some(
    ([placeholder, name]) => name === 'claimedAt' && update.includes(`${placeholder} =`),
  );
};

/** The fixed words of a key (`QUEUE#<id>#CONTACTS` -> `QUEUE#CONTACTS`), ids left out. */
export const keyShape = (value: unknown): string =>
  typeof value === 'string'
    ? value
        .split('#')
        .filter((t) => /^[A-Z]+$/.test(t))
        .join('#')
    : '?';

/** What an item is, from its marshalled key: `QUEUE/CONTACT`, `MSG/MSG`, `QUEUE/CALLBACK`, ... */
export const itemShape = (item: Record<string, { S?: string } | undefined>): string =>
  `${keyShape(item.pk?.S)}/${keyShape(item.sk?.S)}`;

/** `UpdateItem QUEUE/CONTACT (claim)`, `Query gsi2 DUE#SCHEDULE`, `BatchWriteItem QUEUE/CONTACT`, ... */
export const requestKind = (command: string, input: unknown): string => {
  const request = input as AnyInput;
  const name = command.replace(/Command$/, '');
  if (name === 'Query') {
    const partition = Object.values(request?.ExpressionAttributeValues ?? {})
      .map((v) => (v as AnyInput)?.S)
      .find((v) => typeof v === 'string' && /^[A-Z]+#/.test(v));
    return `Query ${request?.IndexName ?? 'table'} ${keyShape(partition)}`;
  }
  if (name === 'BatchWriteItem' || name === 'BatchGetItem') {
    const [first] = Object.values(request?.RequestItems ?? {}) as AnyInput[];
    const entry =
      name === 'BatchGetItem'
        ? first?.Keys?.[0]
        : (first?.[0]?.PutRequest?.Item ?? first?.[0]?.DeleteRequest?.Key);
    return entry ? `${name} ${itemShape(entry)}` : name;
  }
  const key = request?.Key ?? request?.Item;
  if (!key) return name;
  return `${name} ${itemShape(key)}${isClaim(command, input) ? ' (claim)' : ''}`;
};
