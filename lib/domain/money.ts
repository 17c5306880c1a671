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

/** Digits with an optional group separator and decimal part, after the currency sign is taken off. */
const AMOUNT_TEXT = /^\d[\d.,]*$/;
/** Whole reais grouped by threes with this separator: `1.234.567`, `1,234`. */
const GROUPED_BY = { '.': /^\d{1,3}(\.\d{3})+$/, ',': /^\d{1,3}(,\d{3})+$/ } as const;

/**
 * Reads an amount the way Brazilian ERPs and spreadsheets write it: `R$ 1.234,56`, `1234,56`,
 * `1.234`, `10` and, from systems that speak English, `1234.56` or `1,234.56`. When both separators
 * appear, the last one is the decimal mark; a lone `.` or `,` is the decimal mark when one or two
 * digits follow it, and `.` grouping threes is the Brazilian thousands separator. Anything else
 * (`abc`, `1,234` with no decimals, three decimals, a sign) is not an amount: undefined, so the
 * contact is refused rather than sent a wrong value.
 */
export function parseBrlAmount(input: string): number | undefined {
  const text = input.trim().replace(/^R\$\s*/i, '');
  if (!AMOUNT_TEXT.test(text)) return undefined;
  const lastDot = text.lastIndexOf('.');
  const lastComma = text.lastIndexOf(',');
  const decimalAt = Math.max(lastDot, lastComma);
  let whole = text;
  let cents = '';
  if (decimalAt >= 0) {
    const mark = text[decimalAt] as '.' | ',';
    const fraction = text.slice(decimalAt + 1);
    const onlyMark = lastDot < 0 || lastComma < 0;
    const isDecimal = /^\d{1,2}$/.test(fraction);
    if (isDecimal) {
      whole = text.slice(0, decimalAt);
      cents = fraction;
      const thousands = mark === '.' ? ',' : '.';
      if (whole.includes(mark)) return undefined;
      if (whole.includes(thousands) && !GROUPED_BY[thousands].test(whole)) return undefined;
    } else if (onlyMark && mark === '.' && GROUPED_BY['.'].test(text)) {
      whole = text;
    } else {
      return undefined;
    }
  }
  const value = Number(`${whole.replace(/[.,]/g, '')}.${cents || '0'}`);
  return Number.isFinite(value) && value <= Number.MAX_SAFE_INTEGER / 100 ? value : undefined;
}

/**
 * The text a message shows for a money value, always in one format (`R$ 1.234,56`): an ERP's string
 * is read by `parseBrlAmount`, a number is taken as reais. Text that is not an amount, NaN,
 * infinities and negatives are refused with INVALID_MONEY.
 */
export function normalizeMoney(input: string | number): Result<string> {
  const value = typeof input === 'string' ? parseBrlAmount(input) : input;
  if (value === undefined || !Number.isFinite(value) || value < 0)
    return fail('INVALID_MONEY', { value: String(input) });
  return ok(formatBrl(value));
}
