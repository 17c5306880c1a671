/**
 * A queue's invoice filter: a Bloom filter of its contacts' invoice numbers, on an item of its own
 * (`keys.queueInvoices`, written with the contacts and never changed), so that a payment reads the
 * contacts only of the open queues that may hold one of its invoices instead of every open queue's
 * (docs/data-model.md, Debtors). Never a false "no"; a false "maybe" about 1 time in 100 (a queue
 * read for nothing, as every queue was before).
 */

/**
 * A queue of at most this many contacts gets no filter: its contacts are read by key, a read unit
 * each (dynamodb-debtor-store.ts), which is what reading its filter would cost.
 */
export const SMALL_QUEUE_CONTACTS = 10;

/** Bits per distinct invoice: with `HASHES` positions each, about 1 % false positives. */
const BITS_PER_INVOICE = 10;
const HASHES = 7;

/** FNV-1a (32 bits) of the UTF-8 bytes of `text`, from `basis`. */
const fnv1a = (text: string, basis: number): number => {
  let hash = basis;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

/** An invoice hashed once, to test against filters of any size. */
export interface InvoiceProbe {
  first: number;
  step: number;
}

export const invoiceProbe = (invoice: string): InvoiceProbe => ({
  first: fnv1a(invoice, 0x811c9dc5),
  // Odd, so the steps visit more than one residue of an even bit count.
  step: (fnv1a(invoice, 0x050c5d1f) | 1) >>> 0,
});

/** The bit positions of an invoice in a filter of `bits` bits (double hashing). */
const positionsOf = ({ first, step }: InvoiceProbe, bits: number): number[] =>
  Array.from({ length: HASHES }, (_, i) => (first + i * step) % bits);

/** The filter of `invoices` (whole bytes; at least one). */
export const invoiceFilterOf = (invoices: Iterable<string>): Uint8Array => {
  const distinct = new Set(invoices);
  const filter = new Uint8Array(Math.max(1, Math.ceil((distinct.size * BITS_PER_INVOICE) / 8)));
  const bits = filter.length * 8;
  for (const invoice of distinct)
    for (const position of positionsOf(invoiceProbe(invoice), bits))
      filter[position >> 3] = (filter[position >> 3] ?? 0) | (1 << (position & 7));
  return filter;
};

/** Whether a queue whose filter is `filter` may hold a contact of the invoice (false: it holds none). */
export const mayHoldInvoice = (filter: Uint8Array, invoice: InvoiceProbe): boolean =>
  positionsOf(invoice, filter.length * 8).every(
    (position) => ((filter[position >> 3] ?? 0) & (1 << (position & 7))) !== 0,
  );
