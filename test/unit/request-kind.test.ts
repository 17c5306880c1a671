import { describe, expect, it } from 'vitest';
import { isClaim, requestKind } from '../../bench/request-kind.ts';

const contactKey = { pk: { S: 'QUEUE#q-1' }, sk: { S: 'CONTACT#0003' } };

describe('bench request kinds', () => {
  it('labels the UpdateItem that sets claimedAt as the claim, and not the record that only checks it', () => {
    // Prepare: the claim sets claimedAt; the send's record names it in its condition only.
    const claim = {
      Key: contactKey,
      UpdateExpression: 'SET #n0 = :v0, #n1 = :v1 REMOVE #n2',
      ConditionExpression: '#n0 = :v2',
      ExpressionAttributeNames: { '#n0': 'status', '#n1': 'claimedAt', '#n2': 'retryAt' },
    };
    const record = {
      Key: contactKey,
      UpdateExpression: 'SET #n0 = :v0, #n1 = :v1',
      ConditionExpression: '#n0 = :v2 AND #n2 = :v3',
      ExpressionAttributeNames: { '#n0': 'status', '#n1': 'sentAt', '#n2': 'claimedAt' },
    };

    // Act
    const kinds = [requestKind('UpdateItemCommand', claim), requestKind('UpdateItemCommand', record)];

    // Assess
    expect(kinds).toEqual(['UpdateItem QUEUE/CONTACT (claim)', 'UpdateItem QUEUE/CONTACT']);
    expect(isClaim('PutItemCommand', claim)).toBe(false);
  });
});
