/**
 * Phone numbers as ERPs type them, turned into the E.164 form WhatsApp (Evolution) addresses.
 * Uses libphonenumber-js's `/max` metadata: the default build cannot tell a mobile from a fixed line
 * and accepts numbers whose ranges are not allocated.
 */
import { type CountryCode, type PhoneNumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { fail, ok, type Result } from './errors.ts';

export type PhoneKind = 'mobile' | 'fixed_line' | 'fixed_line_or_mobile' | 'other';

export interface NormalizedPhone {
  /** `+5511999999999`. */
  e164: string;
  /** E.164 without the `+`, the form Evolution's routes want. */
  digits: string;
  /** ISO 3166 region (`BR`, `US`); `001` for non-geographic numbers, as libphonenumber names them. */
  country: string;
  kind: PhoneKind;
}

export interface NormalizePhoneOptions {
  /** Accept numbers that cannot be mobiles (fixed lines, toll-free, ...): some tenants want them tried. */
  allowLandlines: boolean;
  /** Country of numbers typed without `+`; BR when absent. */
  defaultCountry?: CountryCode;
}

// No letters: libphonenumber skips text around a number ("Tel: 11 99999-9999 abc" parses as valid) and
// reads "ext 12" as an extension; a field holding more than a phone is an ERP bug to report, not guess at.
const ALLOWED_SPELLING = /^\+?[\d\s().\-/]+$/;
// "0xx11 ..." is how Brazilians write "0 + any carrier + DDD"; the xx is a placeholder, not digits.
const CARRIER_PLACEHOLDER = /^0\s*xx\s*/i;
// Country code typed without the "+": 55 + DDD + 8 or 9 digits. National numbers are 10 or 11 digits,
// so 12 or 13 digits starting with 55 can only be international.
const BR_WITHOUT_PLUS = /^55\d{10,11}$/;
// A Brazilian subscriber number alone (8 digits, or 9 for a mobile): the DDD was left out.
const BR_WITHOUT_AREA_CODE = /^9?\d{8}$/;
// Longer than any real spelling; keeps pathological input away from the parser.
const MAX_INPUT_LENGTH = 40;

const KIND_BY_TYPE: Partial<Record<PhoneNumberType, PhoneKind>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
};

const parseValid = (text: string, defaultCountry: CountryCode) => {
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  return parsed?.isValid() && parsed.ext === undefined ? parsed : undefined;
};

/**
 * Normalizes a phone typed by an ERP (`(11) 99999-9999`, `5511999999999`, `+351 912 345 678`, ...)
 * to E.164, refusing invalid numbers and, unless `allowLandlines`, numbers that cannot be mobiles.
 */
export function normalizePhone(input: string, options: NormalizePhoneOptions): Result<NormalizedPhone> {
  const value = input.trim();
  const text = value.replace(CARRIER_PLACEHOLDER, '0');
  if (text.length > MAX_INPUT_LENGTH || !ALLOWED_SPELLING.test(text)) return fail('INVALID_PHONE', { value });

  const defaultCountry = options.defaultCountry ?? 'BR';
  const digitsOnly = text.replace(/\D/g, '');
  const parsed =
    parseValid(text, defaultCountry) ??
    // Outside a BR default the parser reads 5511... as a national number of the default country.
    (!text.startsWith('+') && BR_WITHOUT_PLUS.test(digitsOnly)
      ? parseValid(`+${digitsOnly}`, 'BR')
      : undefined);
  if (!parsed) {
    const missingAreaCode =
      defaultCountry === 'BR' && !text.startsWith('+') && BR_WITHOUT_AREA_CODE.test(digitsOnly);
    return fail(missingAreaCode ? 'PHONE_MISSING_AREA_CODE' : 'INVALID_PHONE', { value });
  }

  const type = parsed.getType();
  const kind: PhoneKind = (type && KIND_BY_TYPE[type]) ?? 'other';
  const canBeMobile = kind === 'mobile' || kind === 'fixed_line_or_mobile';
  if (!canBeMobile && !options.allowLandlines) return fail('PHONE_NOT_MOBILE', { value });

  return ok({
    e164: parsed.number,
    digits: parsed.number.slice(1),
    country: parsed.country ?? '001',
    kind,
  });
}

/**
 * Hides the middle digits of an E.164 number for logs: `+55 11 *****-9999`
 * (country code, Brazilian DDD and last four kept; other countries keep only code and last four).
 */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164.trim());
  if (!parsed) {
    // Not a number we understand: still never print it whole.
    const digits = e164.replace(/\D/g, '');
    return digits.length >= 8 ? `****-${digits.slice(-4)}` : '****';
  }
  const national = parsed.nationalNumber;
  const last4 = national.slice(-4);
  if (parsed.countryCallingCode === '55' && national.length >= 10) {
    return `+55 ${national.slice(0, 2)} ${'*'.repeat(national.length - 6)}-${last4}`;
  }
  const hidden = '*'.repeat(Math.max(national.length - 4, 4));
  return `+${parsed.countryCallingCode} ${hidden}-${national.length > 4 ? last4 : '****'}`;
}
