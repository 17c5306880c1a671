import { isProduction } from './stage.ts';

/**
 * The single table's physical layout, a copy of lib/adapters/store/table-schema.ts (PK, SK, GSI1,
 * GSI2, TTL_ATTRIBUTE). A copy on purpose: table-schema.ts imports the DynamoDB SDK, which has no
 * business in the deploy-time bundle of sst.config.ts. test/unit/infra-synth.test.ts compares the two,
 * so they cannot drift apart.
 */
export const TABLE_LAYOUT = {
  pk: 'pk',
  sk: 'sk',
  indexes: [
    { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
    { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  ],
  ttl: 'ttl',
} as const;

const keyAttributes = [
  TABLE_LAYOUT.pk,
  TABLE_LAYOUT.sk,
  ...TABLE_LAYOUT.indexes.flatMap((index) => [index.pk, index.sk]),
];

/** On-demand single table with two generic, fully projected indexes (SST's defaults for both). */
export const table = new sst.aws.Dynamo('Table', {
  fields: Object.fromEntries(keyAttributes.map((name) => [name, 'string' as const])),
  primaryIndex: { hashKey: TABLE_LAYOUT.pk, rangeKey: TABLE_LAYOUT.sk },
  globalIndexes: Object.fromEntries(
    TABLE_LAYOUT.indexes.map((index) => [index.name, { hashKey: index.pk, rangeKey: index.sk }]),
  ),
  // Counters, idempotency leases and retention-expired items carry epoch seconds here.
  ttl: TABLE_LAYOUT.ttl,
  transform: {
    table: {
      // SST turns it on already; said here so a change of SST's default cannot turn it off.
      pointInTimeRecovery: { enabled: true },
      // A production table is the customers' history: deleting it must take a deliberate second step.
      deletionProtectionEnabled: isProduction,
    },
  },
});
