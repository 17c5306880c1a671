import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  maskPhone,
  type NormalizedPhone,
  normalizePhone,
  parsePhoneWithLibphonenumber,
  parseWellFormedBrazilianPhone,
} from '../../lib/domain/phone.ts';

const MOBILE_SP: NormalizedPhone = {
  e164: '+5511999999999',
  digits: '5511999999999',
  country: 'BR',
  kind: 'mobile',
};

const accepted: Array<[string, NormalizedPhone]> = [
  ['+55 (11) 99999-9999', MOBILE_SP],
  ['11999999999', MOBILE_SP],
  ['(11) 99999-9999', MOBILE_SP],
  ['(11)99999-9999', MOBILE_SP],
  ['11 99999 9999', MOBILE_SP],
  ['011 99999 9999', MOBILE_SP],
  ['0 15 11 99999-9999', MOBILE_SP],
  ['015 11 99999 9999', MOBILE_SP],
  ['01511999999999', MOBILE_SP],
  ['0xx11 99999-9999', MOBILE_SP],
  ['0 XX 11 99999 9999', MOBILE_SP],
  ['5511999999999', MOBILE_SP],
  ['55 11 99999-9999', MOBILE_SP],
  ['55 (11) 99999-9999', MOBILE_SP],
  ['+5511999999999', MOBILE_SP],
  ['+55 11 9 9999-9999', MOBILE_SP],
  ['+55 (011) 99999-9999', MOBILE_SP],
  ['11.99999.9999', MOBILE_SP],
  ['11/99999-9999', MOBILE_SP],
  ['  \t11 99999-9999 \n', MOBILE_SP],
  ['11\u00A099999-9999', MOBILE_SP],
  ['+55 21 98765-4321', { e164: '+5521987654321', digits: '5521987654321', country: 'BR', kind: 'mobile' }],
  ['85988887777', { e164: '+5585988887777', digits: '5585988887777', country: 'BR', kind: 'mobile' }],
  // DDD 55 (Santa Maria, RS): national 11 digits and international 13 digits both start with 55.
  ['55 99999-9999', { e164: '+5555999999999', digits: '5555999999999', country: 'BR', kind: 'mobile' }],
  ['5555999999999', { e164: '+5555999999999', digits: '5555999999999', country: 'BR', kind: 'mobile' }],
  [
    '+1 650 253 0000',
    { e164: '+16502530000', digits: '16502530000', country: 'US', kind: 'fixed_line_or_mobile' },
  ],
  ['+351 912 345 678', { e164: '+351912345678', digits: '351912345678', country: 'PT', kind: 'mobile' }],
];

const invalid: string[] = [
  '',
  '   ',
  '123',
  'abc',
  '11 99999-99999',
  '+55 11 99999-99999',
  '(20) 99999-9999',
  '20999999999',
  // The ninth digit is mandatory on Brazilian mobiles since 2016: an 8-digit mobile no longer exists,
  // and guessing the 9 could reach someone else.
  '11 8888-7777',
  '+55 11 9999-9999',
  '1199999CASA',
  // The parser would drop the trailing text and read a valid number; a typo must not become a send.
  '11 99999-9999 abc',
  'Tel: 11 99999-9999',
  '11 99999-9999 ext 12',
  '+55 11 99999-9999;ext=1',
  '++55 11 99999-9999',
  '55+11999999999',
  '11 99999-9999#',
  // Without "+" a number is read as Brazilian; a US number needs its country code sign.
  '1 650 253 0000',
  '+55 11 99999-9999 99999 9999 99999 9999 9999 9999',
];

/** A subscriber number with no DDD: refused with a hint about what is missing. */
const withoutAreaCode = ['999999999', '99999-9999', '9999-9999', ' 3333 4444 '];

const landlines: Array<[string, NormalizedPhone]> = [
  ['+55 11 3333-4444', { e164: '+551133334444', digits: '551133334444', country: 'BR', kind: 'fixed_line' }],
  ['(11) 3333-4444', { e164: '+551133334444', digits: '551133334444', country: 'BR', kind: 'fixed_line' }],
  ['551133334444', { e164: '+551133334444', digits: '551133334444', country: 'BR', kind: 'fixed_line' }],
  ['55 3222-1234', { e164: '+555532221234', digits: '555532221234', country: 'BR', kind: 'fixed_line' }],
  ['+44 20 7946 0958', { e164: '+442079460958', digits: '442079460958', country: 'GB', kind: 'fixed_line' }],
  ['0800 123 4567', { e164: '+558001234567', digits: '558001234567', country: 'BR', kind: 'other' }],
];

describe('normalizePhone', () => {
  it.each(accepted)('accepts %j as a number that can be a mobile', (input, expected) => {
    // Act
    const result = normalizePhone(input, { allowLandlines: false });

    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it.each(invalid)('refuses %j with INVALID_PHONE and the value it was given', (input) => {
    // Act
    const result = normalizePhone(input, { allowLandlines: true });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_PHONE');
    expect(result.error.params).toEqual({ value: input.trim() });
  });

  it.each(withoutAreaCode)(
    'refuses %j with PHONE_MISSING_AREA_CODE, whose message shows the DDD',
    (input) => {
      // Act
      const result = normalizePhone(input, { allowLandlines: true });

      // Assess
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('PHONE_MISSING_AREA_CODE');
      expect(result.error.message).toContain('DDD');
      expect(result.error.params).toEqual({ value: input.trim() });
    },
  );

  it.each(landlines)('refuses %j with PHONE_NOT_MOBILE when landlines are not allowed', (input) => {
    // Act
    const result = normalizePhone(input, { allowLandlines: false });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('PHONE_NOT_MOBILE');
    expect(result.error.status).toBe(400);
  });

  it.each(landlines)('accepts %j with its kind when landlines are allowed', (input, expected) => {
    // Act
    const result = normalizePhone(input, { allowLandlines: true });

    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it('reads numbers without "+" in the default country when one is given', () => {
    // Act
    const result = normalizePhone('912 345 678', { allowLandlines: false, defaultCountry: 'PT' });

    // Assess
    expect(result).toEqual({
      ok: true,
      value: { e164: '+351912345678', digits: '351912345678', country: 'PT', kind: 'mobile' },
    });
  });

  it('still reads 55 + DDD + number as Brazilian when the default country is another', () => {
    // Act
    const result = normalizePhone('5511999999999', { allowLandlines: false, defaultCountry: 'US' });

    // Assess
    expect(result).toEqual({ ok: true, value: MOBILE_SP });
  });

  it('puts the refused value in the Portuguese message', () => {
    // Act
    const result = normalizePhone(' 123 ', { allowLandlines: false });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toBe('Telefone inválido: 123');
  });
});

/** What normalizePhone hands the parsers: trimmed, and only the characters it lets through. */
const passesSpelling = (text: string) => /^\+?[\d\s().\-/]+$/.test(text);

/** Every DDD 00..99, assigned or not. */
const ALL_DDDS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

describe('parseWellFormedBrazilianPhone', () => {
  it('answers what libphonenumber answers, for every DDD, first digit, length and prefix', () => {
    // Prepare: DDD x first subscriber digit x 7..10 digits x the prefixes ERPs type, two spellings each.
    const prefixes = ['', '55', '+55', '+55 ', '0', '015', '+550', '90', '+', '+1'];
    const cases: string[] = [];
    for (const ddd of ALL_DDDS)
      for (let first = 0; first <= 9; first++)
        for (let length = 7; length <= 10; length++) {
          const subscriber = `${first}${'8765432109'.slice(0, length - 1)}`;
          for (const prefix of prefixes) {
            cases.push(`${prefix}${ddd}${subscriber}`);
            cases.push(`${prefix}(${ddd}) ${subscriber.slice(0, -4)}-${subscriber.slice(-4)}`);
          }
        }
    let taken = 0;

    // Act / Assess
    for (const text of cases) {
      const fast = parseWellFormedBrazilianPhone(text);
      if (fast === undefined) continue;
      taken += 1;
      expect({ text, phone: fast }).toEqual({ text, phone: parsePhoneWithLibphonenumber(text, 'BR') });
    }
    // At least 67 DDDs x (mobiles of 9 + 8 digits and 7 + 7 digits, fixed lines [2-5] + 7 digits) x
    // 4 prefixes ('', 55, +55, '+55 ') x 2 spellings (and 55 + a 10-digit number read as 55 + DDD).
    expect(taken).toBeGreaterThanOrEqual(67 * 6 * 4 * 2);
  });

  it('agrees with libphonenumber on numbers with separators, prefixes and noise anywhere', () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const ddd = fc.oneof(
      fc.constantFrom('11', '21', '55', '61', '75', '91', '99'),
      fc.constantFrom(...ALL_DDDS),
    );
    const subscriber = fc
      .tuple(fc.constantFrom(...'0123456789'), digits(6, 9))
      .map(([first, rest]) => first + rest);
    const prefix = fc.constantFrom(
      '',
      '',
      '55',
      '+55',
      '+ 55',
      '+(55)',
      '(55)',
      '+-55',
      '0',
      '015',
      '+550',
      '90',
      '-',
      '/',
    );
    const separator = fc.constantFrom(' ', '(', ')', '.', '-', '/', '\u00A0', ') ', ' (', '\t');
    const phone = fc
      .tuple(prefix, ddd, subscriber, fc.array(fc.tuple(fc.nat(), separator), { maxLength: 5 }))
      .map(([before, area, number, inserts]) =>
        inserts.reduce((text, [at, sep]) => {
          const cut = at % (text.length + 1);
          return text.slice(0, cut) + sep + text.slice(cut);
        }, `${before}${area}${number}`),
      )
      .map((text) => text.trim())
      .filter(passesSpelling);

    fc.assert(
      fc.property(phone, (text) => {
        // Act
        const fast = parseWellFormedBrazilianPhone(text);

        // Assess: where the fast path answers, it answers like the parser.
        if (fast !== undefined) expect(fast).toEqual(parsePhoneWithLibphonenumber(text, 'BR'));
      }),
      { numRuns: 20_000, seed: 20261206 },
    );
  });

  it.each([
    ['(11) 99999-9999', 'mobile'],
    ['11999999999', 'mobile'],
    ['+55 11 99999-9999', 'mobile'],
    ['5511999999999', 'mobile'],
    ['55 (11) 99999-9999', 'mobile'],
    ['11.99999.9999', 'mobile'],
    ['11\u00A099999-9999', 'mobile'],
    ['55 99999-9999', 'mobile'],
    ['5555999999999', 'mobile'],
    ['(11) 7123-4567', 'mobile'],
    ['(11) 3333-4444', 'fixed_line'],
    ['551133334444', 'fixed_line'],
  ])('takes %j without the parser, as a %s', (text, kind) => {
    // Act
    const fast = parseWellFormedBrazilianPhone(text);

    // Assess
    expect(fast?.kind).toBe(kind);
    expect(fast).toEqual(parsePhoneWithLibphonenumber(text, 'BR'));
  });

  it.each([
    '011 99999 9999',
    '015 11 99999 9999',
    '+55 (011) 99999-9999',
    '(20) 99999-9999',
    '11 8888-7777',
    '999999999',
    '+351 912 345 678',
    '0800 123 4567',
    '11\t99999-9999',
  ])('leaves %j to the parser', (text) => {
    // Act / Assess
    expect(parseWellFormedBrazilianPhone(text)).toBeUndefined();
  });
});

describe('maskPhone', () => {
  it('keeps country code, DDD and last four digits of a Brazilian mobile', () => {
    // Act
    const masked = maskPhone('+5511987654321');

    // Assess
    expect(masked).toBe('+55 11 *****-4321');
  });

  it('masks a Brazilian landline the same way', () => {
    // Act
    const masked = maskPhone('+551133334444');

    // Assess
    expect(masked).toBe('+55 11 ****-4444');
  });

  it('keeps only country code and last four digits of a foreign number', () => {
    // Act
    const masked = maskPhone('+351912345678');

    // Assess
    expect(masked).toBe('+351 *****-5678');
    expect(masked).not.toContain('912345');
  });

  it('never prints whole a value it cannot parse', () => {
    // Act
    const long = maskPhone('not a phone 123456789');
    const short = maskPhone('12');

    // Assess
    expect(long).toBe('****-6789');
    expect(short).toBe('****');
  });

  it('masks the output of normalizePhone without revealing the middle digits', () => {
    // Prepare
    const normalized = normalizePhone('(21) 98765-4321', { allowLandlines: false });
    if (!normalized.ok) throw normalized.error;

    // Act
    const masked = maskPhone(normalized.value.e164);

    // Assess
    expect(masked).toBe('+55 21 *****-4321');
    expect(masked).not.toContain('98765');
  });
});
