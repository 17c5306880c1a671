import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { BillingContact } from '../../domain/types.ts';
import { keys, PK, SK, TABLE_ATTRIBUTES } from './table-schema.ts';

/*
 * How a contact is stored (docs/data-model.md, Contact): a realistic overdue reminder (a PIX code
 * and a payment link, each both in the variables and in the rendered text) must stay under 1 KB
 * through its whole life (accept, claim, send, receipts), so each write of it is one write unit.
 * So the item holds no index key, nothing its key says (id, queue id, position), no null field,
 * and the two large fields, `variables` and `renderedMessage`, deflated together in `body` (the
 * text repeats the variables' values, which compression then stores once). Entities never see
 * this shape: `contactFromItem` reads it and the item of the earlier shape alike.
 */

/** The attribute holding `[variables, renderedMessage]` as deflated JSON, behind a format byte. */
export const CONTACT_BODY = 'body';

/**
 * Format 1: byte 1, then raw deflate of the JSON with `BODY_DICTIONARY` as preset dictionary. The
 * dictionary of a format never changes (stored bodies need it to inflate); a new one is a new format.
 */
const BODY_FORMAT = 1;

/**
 * What most bodies contain, for deflate to refer back to: the guide's variable names, the calculated
 * due-date variables, and the fixed fields of a PIX copia-e-cola (EMV) code. Generic on purpose: no
 * template's wording. Deflate finds later bytes more cheaply, so the commonest come last.
 */
const BODY_DICTIONARY = Buffer.from(
  [
    '"status_vencimento":"a_vencer"',
    '"status_vencimento":"vence_hoje"',
    '","mensagem":"',
    '","titulo":"',
    '"empresa":"',
    '","cnpj":"',
    '5204000053039865802BR5913',
    '6009SAO PAULO62070503***6304',
    '00020126580014br.gov.bcb.pix0136',
    ' dia(s) ',
    'https://',
    ',"status_vencimento":"vencido"',
    ',"dias_para_vencer":0',
    ',"dias_atraso":',
    '","codigo_pix":"000201',
    '","link_pagamento":"https://',
    '","valor_total":"R$ ',
    '","numero_fatura":"',
    '","data_vencimento":"',
    '","valor":"R$ ',
    '","telefone":"',
    '[{"nome_cliente":"',
  ].join(''),
  'utf8',
);

/** Fields the type requires that may be null: absent from the item, null in the entity. */
const NULLABLE_FIELDS = [
  'invoiceNumber',
  'lastError',
  'lastErrorAt',
  'providerMessageId',
  'sentAt',
  'deliveredAt',
  'readAt',
] as const satisfies readonly (keyof BillingContact)[];

/** Fields the item's key holds (`QUEUE#<queueId>` / `CONTACT#<position>`); the id is built from both. */
const KEY_FIELDS: readonly string[] = ['id', 'queueId', 'position'];

/**
 * What a receipt's write leaves on the contact besides its fields: a mark of its own (the write's
 * time and random bytes, per call) and the status it replaced (a SERVER_ACK, which replaces none,
 * only the mark). A retry of that very write reads them, to recognise its own write when the first
 * answer was lost (dynamodb-feedback-store.ts applyReceipt, dynamodb-delivery-watch-store.ts
 * recordServerAck); the receipt recount reads the mark's time, to wait until no receipt's counters
 * write can still be on its way (dynamodb-receipt-recount-store.ts). No entity carries them.
 */
export const RECEIPT_MARK = 'receiptMark';
export const RECEIPT_FROM = 'receiptFrom';

/**
 * A new mark for one receipt write at `now`: its time in milliseconds (base 36, 8 characters until
 * 2059), a dot, 4 random bytes (6 characters); one contact never sees two alike.
 */
export const newReceiptMark = (now: Date): string =>
  `${now.getTime().toString(36)}.${randomBytes(4).toString('base64url')}`;

/** When the write that left `mark` happened (ms); undefined for a mark without a time (an earlier version's). */
export const receiptMarkTime = (mark: unknown): number | undefined => {
  if (typeof mark !== 'string') return undefined;
  const dot = mark.indexOf('.');
  if (dot <= 0) return undefined;
  const ms = Number.parseInt(mark.slice(0, dot), 36);
  return Number.isSafeInteger(ms) ? ms : undefined;
};

/** Index keys an item of the earlier shape may still carry; never read any more. */
const LEGACY_INDEX_ATTRIBUTES: readonly string[] = ['gsi1pk', 'gsi1sk'];

/**
 * The gateway's JID of the send (`key.remoteJid`), which contacts sent before it stopped being kept
 * still carry: never read, and it spells the phone, so an erasure removes it (dynamodb-debtor-store.ts).
 */
export const LEGACY_REMOTE_JID = 'remoteJid';

type Item = Record<string, unknown>;
type Variables = BillingContact['variables'];

/** `variables` and `renderedMessage` as the `body` attribute stores them. */
export function packContactBody(variables: Variables, renderedMessage: string): Uint8Array {
  const deflated = deflateRawSync(JSON.stringify([variables, renderedMessage]), {
    level: 9,
    dictionary: BODY_DICTIONARY,
  });
  return Buffer.concat([Buffer.from([BODY_FORMAT]), deflated]);
}

/** The fields a `body` attribute holds; a format this code does not know is a bug (or a newer writer). */
export function unpackContactBody(body: Uint8Array): Pick<BillingContact, 'variables' | 'renderedMessage'> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes[0] !== BODY_FORMAT) throw new Error(`contact body of unknown format ${bytes[0]}`);
  const [variables, renderedMessage] = JSON.parse(
    inflateRawSync(bytes.subarray(1), { dictionary: BODY_DICTIONARY }).toString('utf8'),
  ) as [Variables, string];
  return { variables, renderedMessage };
}

/** The attributes that hold a contact's rendered message, in either shape: what `renderedMessageOf` reads. */
export const RENDERED_MESSAGE_ATTRIBUTES = [CONTACT_BODY, 'renderedMessage'] as const;

/** The rendered message of a contact item (or of its `RENDERED_MESSAGE_ATTRIBUTES`), in either shape. */
export function renderedMessageOf(item: Item): string | undefined {
  const body = item[CONTACT_BODY];
  if (body instanceof Uint8Array) return unpackContactBody(body).renderedMessage;
  return typeof item.renderedMessage === 'string' ? item.renderedMessage : undefined;
}

/**
 * The attributes an UpdateItem writes for these contact fields: the body packed when `variables` and
 * `renderedMessage` change (always together: one without the other would leave a stale half), and a
 * null field removed rather than stored. `remove` also drops the earlier shape's plain attributes.
 */
export function contactAttributes(fields: Partial<BillingContact>): { set: Item; remove: string[] } {
  for (const field of KEY_FIELDS) {
    if (field in fields) throw new Error(`contactAttributes: ${field} is the contact's key`);
  }
  return attributesOf(fields);
}

/** The item of a new contact: its key, then only the fields that have a value. */
export function contactToItem(contact: BillingContact): Item {
  // Read in place rather than copied without the key fields: this runs for every contact of a batch.
  return attributesOf(contact, KEY_FIELDS, keys.contact(contact.queueId, contact.position)).set;
}

/** `contactAttributes` of `fields` except those in `skip`, the attributes set added to `set`. */
function attributesOf(
  fields: Partial<BillingContact>,
  skip: readonly string[] = [],
  set: Item = {},
): { set: Item; remove: string[] } {
  const remove: string[] = [];
  const { variables, renderedMessage } = fields;
  if ((variables === undefined) !== (renderedMessage === undefined)) {
    throw new Error('contactAttributes: variables and renderedMessage change together');
  }
  if (variables !== undefined && renderedMessage !== undefined) {
    set[CONTACT_BODY] = packContactBody(variables, renderedMessage);
    remove.push('variables', 'renderedMessage');
  }
  for (const field in fields) {
    if (field === 'variables' || field === 'renderedMessage' || skip.includes(field)) continue;
    const value = fields[field as keyof BillingContact];
    if (value === undefined) continue;
    if (value === null) remove.push(field);
    else set[field] = value;
  }
  return { set, remove };
}

const QUEUE_PREFIX = 'QUEUE#';
const CONTACT_PREFIX = 'CONTACT#';

/** Whether an item is a contact (its sort key says so). */
export const isContactItem = (item: Item): boolean =>
  typeof item[SK] === 'string' && (item[SK] as string).startsWith(CONTACT_PREFIX);

/** The position a contact's sort key (`CONTACT#0042`) holds. */
export const contactPositionOf = (item: Item): number =>
  Number(String(item[SK]).slice(CONTACT_PREFIX.length));

/**
 * The contact an item holds, in either shape: today's (no null, nothing the key says, `body`) or the
 * earlier one (every field, plain `variables` and `renderedMessage`, gsi1 keys).
 */
export function contactFromItem(item: Item): BillingContact {
  const entity: Item = { ...item };
  for (const attribute of [
    ...TABLE_ATTRIBUTES,
    ...LEGACY_INDEX_ATTRIBUTES,
    CONTACT_BODY,
    RECEIPT_MARK,
    RECEIPT_FROM,
    LEGACY_REMOTE_JID,
  ]) {
    delete entity[attribute];
  }
  const queueId = String(item[PK]).slice(QUEUE_PREFIX.length);
  const position = contactPositionOf(item);
  const body = item[CONTACT_BODY];
  const unpacked = body instanceof Uint8Array ? unpackContactBody(body) : {};
  const nulls = Object.fromEntries(NULLABLE_FIELDS.map((field) => [field, entity[field] ?? null]));
  return {
    ...entity,
    ...nulls,
    ...unpacked,
    id: `${queueId}:${position}`,
    queueId,
    position,
  } as BillingContact;
}
