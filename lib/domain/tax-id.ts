/**
 * Brazilian taxpayer numbers: CNPJ (companies; numeric, or alphanumeric as the Receita Federal
 * issues them from July 2026) and CPF (people). A number is valid when its two check digits are
 * (modulo 11); a run of one repeated digit passes that arithmetic but is never issued.
 */

export type TaxIdKind = 'cnpj' | 'cpf';

export interface TaxId {
  kind: TaxIdKind;
  /** Written the usual way: `11.222.333/0001-81`, `529.982.247-25`. */
  formatted: string;
}

const CNPJ_WEIGHTS_1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_WEIGHTS_2 = [6, ...CNPJ_WEIGHTS_1];

// Each character counts as its code minus 48 ('0' = 0 .. '9' = 9, 'A' = 17 .. 'Z' = 42): the
// Receita's rule for alphanumeric CNPJs, which gives the old numeric rule for digits.
const checkDigit = (body: string, weights: readonly number[]): number => {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (body.charCodeAt(i) - 48) * (weights[i] ?? 0);
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
};

const cpfCheckDigit = (body: string): number => {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[i]) * (body.length + 1 - i);
  const rest = (sum * 10) % 11;
  return rest === 10 ? 0 : rest;
};

const isValidCnpj = (chars: string): boolean => {
  if (!/^[0-9A-Z]{12}\d{2}$/.test(chars) || /^(\d)\1{13}$/.test(chars)) return false;
  const first = checkDigit(chars.slice(0, 12), CNPJ_WEIGHTS_1);
  const second = checkDigit(chars.slice(0, 12) + first, CNPJ_WEIGHTS_2);
  return chars.slice(12) === `${first}${second}`;
};

const isValidCpf = (digits: string): boolean => {
  if (!/^\d{11}$/.test(digits) || /^(\d)\1{10}$/.test(digits)) return false;
  const first = cpfCheckDigit(digits.slice(0, 9));
  const second = cpfCheckDigit(digits.slice(0, 9) + first);
  return digits.slice(9) === `${first}${second}`;
};

const formatCnpj = (c: string): string =>
  `${c.slice(0, 2)}.${c.slice(2, 5)}.${c.slice(5, 8)}/${c.slice(8, 12)}-${c.slice(12)}`;
const formatCpf = (c: string): string => `${c.slice(0, 3)}.${c.slice(3, 6)}.${c.slice(6, 9)}-${c.slice(9)}`;

/** A CNPJ or CPF written with or without its dots, slash and dash; undefined when it is not valid. */
export const parseTaxId = (text: string): TaxId | undefined => {
  const chars = text.toUpperCase().replace(/[\s./-]/g, '');
  if (isValidCnpj(chars)) return { kind: 'cnpj', formatted: formatCnpj(chars) };
  if (isValidCpf(chars)) return { kind: 'cpf', formatted: formatCpf(chars) };
  return undefined;
};

// A CNPJ or CPF as people write one in a text (punctuated or not), not inside a longer number.
const TAX_ID_IN_TEXT =
  /(?<![0-9A-Za-z])(?:[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}\/?[0-9A-Z]{4}-?\d{2}|\d{3}\.?\d{3}\.?\d{3}-?\d{2})(?![0-9A-Za-z])/g;

/** The first valid CNPJ or CPF written in `text`, if any. */
export const findTaxId = (text: string): TaxId | undefined => {
  for (const match of text.matchAll(TAX_ID_IN_TEXT)) {
    const found = parseTaxId(match[0]);
    if (found) return found;
  }
  return undefined;
};
