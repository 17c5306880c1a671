/**
 * Money values (`valor`, `valor_total`) as they appear in messages: Brazilian reais, pt-BR spelling.
 * Amounts are only displayed, never computed on, so they stay text.
 */
import { fail, ok, type Result } from './errors.ts';

// signDisplay 'negative' keeps -0 (and negatives that round to zero) from printing as "-R$ 0,00".
const BRL = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL', signDisplay: 'negative' });
// Intl separates "R$" from the amount with a no-break space (U+00A0, U+202F in some ICU versions);
// ERPs type a plain space, and both spellings should read the same in a message.
const NO_BREAK_SPACES = /[\u00A0\u202F]/g;

/** Formats a number as pt-BR reais with a plain space: `R$ 1.234,56`. */
export function formatBrl(value: number): string {
  return BRL.format(value).replace(NO_BREAK_SPACES, ' ');
}

/**
 * The text a message shows for a money value: an ERP's string is its own spelling, kept as given (trimmed);
 * a number is formatted with `formatBrl`. Empty strings, NaN, infinities and negatives are refused.
 */
export function normalizeMoney(input: string | number): Result<string> {
  if (typeof input === 'string') {
    const text = input.trim();
    return text === '' ? fail('INVALID_MONEY', { value: input }) : ok(text);
  }
  if (!Number.isFinite(input) || input < 0) return fail('INVALID_MONEY', { value: String(input) });
  return ok(formatBrl(input));
}
