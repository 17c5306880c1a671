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
 * A phone (already trimmed, its spelling checked) as libphonenumber reads it: valid, without an
 * extension; undefined otherwise. The reference the Brazilian fast path must agree with.
 */
export function parsePhoneWithLibphonenumber(
  text: string,
  defaultCountry: CountryCode,
): NormalizedPhone | undefined {
  const digitsOnly = text.replace(/\D/g, '');
  const parsed =
    parseValid(text, defaultCountry) ??
    // Outside a BR default the parser reads 5511... as a national number of the default country.
    (!text.startsWith('+') && BR_WITHOUT_PLUS.test(digitsOnly)
      ? parseValid(`+${digitsOnly}`, 'BR')
      : undefined);
  if (!parsed) return undefined;
  const type = parsed.getType();
  return {
    e164: parsed.number,
    digits: parsed.number.slice(1),
    country: parsed.country ?? '001',
    kind: (type && KIND_BY_TYPE[type]) ?? 'other',
  };
}

// The fast path's shapes (libphonenumber's BR metadata, `/max`): a DDD Anatel assigns, then a fixed
// line ([2-5] + 7 digits) or a mobile (9 + 8 digits, or the 10-digit 7 + 7 digits range).
const BR_NATIONAL = /^(?:[14689][1-9]|2[12478]|3[1-578]|5[13-5]|7[13-579])(?:([2-5])\d{7}|7\d{7}|9\d{8})$/;
// Only the separators ERPs type between digit groups; anything else is left to the parser.
const BR_SEPARATORS = /[ ().\-/\u00A0]/g;

/**
 * The answer of `parsePhoneWithLibphonenumber(text, 'BR')` for the spellings ERPs send nearly always
 * (DDD + number, with or without 55 or +55, separators anywhere), found with two regular
 * expressions instead of the parser (about 20 us a number, the largest part of validating a
 * batch). Undefined for anything else (a 0 or carrier prefix, another country, an invalid number):
 * the parser decides those. test/unit/phone.test.ts compares both over generated numbers.
 */
export function parseWellFormedBrazilianPhone(text: string): NormalizedPhone | undefined {
  const compact = text.replace(BR_SEPARATORS, '');
  const international = compact.startsWith('+');
  const digits = international ? compact.slice(1) : compact;
  if (!/^\d+$/.test(digits)) return undefined;
  // 55 + DDD + number (with the + or without), else DDD + number without it; BR_NATIONAL checks the rest.
  const national = BR_WITHOUT_PLUS.test(digits) ? digits.slice(2) : international ? undefined : digits;
  const shape = national === undefined ? null : BR_NATIONAL.exec(national);
  if (!shape) return undefined;
  return {
    e164: `+55${national}`,
    digits: `55${national}`,
    country: 'BR',
    kind: shape[1] === undefined ? 'mobile' : 'fixed_line',
  };
}

/**
 * Normalizes a phone typed by an ERP (`(11) 99999-9999`, `5511999999999`, `+351 912 345 678`, ...)
 * to E.164, refusing invalid numbers and, unless `allowLandlines`, numbers that cannot be mobiles.
 */
export function normalizePhone(input: string, options: NormalizePhoneOptions): Result<NormalizedPhone> {
  const value = input.trim();
  const text = value.replace(CARRIER_PLACEHOLDER, '0');
  if (text.length > MAX_INPUT_LENGTH || !ALLOWED_SPELLING.test(text)) return fail('INVALID_PHONE', { value });

  const defaultCountry = options.defaultCountry ?? 'BR';
  const phone =
    (defaultCountry === 'BR' ? parseWellFormedBrazilianPhone(text) : undefined) ??
    parsePhoneWithLibphonenumber(text, defaultCountry);
  if (!phone) {
    const missingAreaCode =
      defaultCountry === 'BR' && !text.startsWith('+') && BR_WITHOUT_AREA_CODE.test(text.replace(/\D/g, ''));
    return fail(missingAreaCode ? 'PHONE_MISSING_AREA_CODE' : 'INVALID_PHONE', { value });
  }

  const canBeMobile = phone.kind === 'mobile' || phone.kind === 'fixed_line_or_mobile';
  if (!canBeMobile && !options.allowLandlines) return fail('PHONE_NOT_MOBILE', { value });
  return ok(phone);
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
