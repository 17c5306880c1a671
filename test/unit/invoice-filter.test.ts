import { describe, expect, it } from 'vitest';
import { invoiceFilterOf, invoiceProbe, mayHoldInvoice } from '../../lib/adapters/store/invoice-filter.ts';

const mayHold = (filter: Uint8Array, invoice: string) => mayHoldInvoice(filter, invoiceProbe(invoice));

const invoices = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('invoice filter', () => {
  it('never says no to an invoice it was made of, and says maybe to few others', () => {
    // Prepare: a 1000-contact batch's invoices (some twice), and 10,000 invoices of other batches
    const held = [...invoices('NF-2026', 1000), 'NF-2026-1', 'NF-2026-2'];
    const others = invoices('NF-2025', 10_000);

    // Act
    const filter = invoiceFilterOf(held);
    const falseMaybes = others.filter((invoice) => mayHold(filter, invoice)).length;

    // Assess: 10 bits an invoice (1250 bytes); about 1 % false positives
    expect(filter.length).toBe(1250);
    expect(held.every((invoice) => mayHold(filter, invoice))).toBe(true);
    expect(falseMaybes).toBeLessThan(300);
  });

  it('is the same for the same invoices in any order, and holds nothing when made of none', () => {
    const some = invoices('FAT', 50);
    expect(invoiceFilterOf([...some].reverse())).toEqual(invoiceFilterOf(some));
    expect(mayHold(invoiceFilterOf([]), 'FAT-1')).toBe(false);
    expect(mayHold(invoiceFilterOf(['Fatura nº 7 – março']), 'Fatura nº 7 – março')).toBe(true);
  });
});
