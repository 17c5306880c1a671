import { Logger } from '@aws-lambda-powertools/logger';
import { maskPhone } from '../domain/phone.ts';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** What a secret's value becomes in a log line. */
export const REDACTED = '[REDACTED]';

/** Key spelling without case, `-`, `_` or spaces: `X-Billing-API-Key` and `api_key` both end in `apikey`. */
const normalizeKey = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

const isSecretKey = (key: string): boolean => {
  const k = normalizeKey(key);
  return (
    k === 'key' ||
    k.endsWith('apikey') ||
    k.includes('secret') ||
    k.endsWith('token') ||
    k.includes('authorization') ||
    k.includes('password') ||
    k === 'passwd' ||
    k.startsWith('credential') ||
    k === 'cookie' ||
    k === 'setcookie'
  );
};

// `from`/`to` are not here on purpose: logs use them for statuses.
const isPhoneKey = (key: string): boolean => {
  const k = normalizeKey(key);
  return (
    k.includes('phone') ||
    k.includes('telefone') ||
    k === 'celular' ||
    k === 'whatsapp' ||
    k === 'number' ||
    k.endsWith('jid')
  );
};

/** Masks one phone as it was spelled (E.164, `5511...`, `(11) 99999-9999`), keeping DDD and last four. */
const maskSpelledPhone = (spelled: string): string => {
  const digits = spelled.replace(/\D/g, '');
  if (spelled.trim().startsWith('+')) return maskPhone(`+${digits}`);
  if (/^55\d{10,11}$/.test(digits)) return maskPhone(`+${digits}`);
  if (/^\d{10,11}$/.test(digits)) return maskPhone(`+55${digits}`);
  return maskPhone(spelled);
};

// A Brazilian national number: DDD (no zero digit) then a mobile (9 + 8 digits) or a landline (8 digits).
const BR_NATIONAL = /^(55)?[1-9]{2}(9\d{8}|[2-8]\d{7})$/;
const PHONE_CHARS = /^\+?[\d\s().-]+$/;

const isWholePhone = (value: string): boolean => {
  const text = value.trim();
  if (!PHONE_CHARS.test(text)) return false;
  const digits = text.replace(/\D/g, '');
  return text.startsWith('+') ? digits.length >= 8 && digits.length <= 15 : BR_NATIONAL.test(digits);
};

// Phones inside free text (messages, gateway reasons, error stacks). Not next to letters, digits or
// hyphens, so UUIDs, ISO timestamps and trace ids are left alone.
const PHONES_IN_TEXT: RegExp[] = [
  // WhatsApp JIDs: 5511999999999@s.whatsapp.net
  /(?<![\w-])\d{8,15}(?=@(?:s\.whatsapp\.net|c\.us))/g,
  // E.164 with any separators: +55 (11) 99999-9999, +5511999999999
  /(?<![\w+-])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)|\d{1,4})(?:[\s.-]?\d{2,5}){1,4}(?![\w-])/g,
  // Country code without "+": 5511999999999
  /(?<![\w+-])55[1-9]{2}9?\d{8}(?![\w-])/g,
  // National spellings: (11) 99999-9999, 11 99999-9999, 11999999999, 11 3333-4444
  /(?<![\w+-])\(?[1-9]{2}\)?[\s.-]?9?\d{4}[\s.-]?\d{4}(?![\w-])/g,
];

// `apikey=...`, `"token": "..."`, `Authorization: Bearer ...` inside text (URLs, serialized bodies).
const SECRETS_IN_TEXT =
  /((?:api[-_]?key|access[-_]?token|token|secret|password|authorization)["']?\s*[:=]\s*["']?(?:bearer\s+)?)[^\s"'&,;}]+/gi;
const BEARER_IN_TEXT = /\bbearer\s+[\w.~+/-]+=*/gi;

/** Masks the phones and secrets that appear inside a piece of text. */
export const maskSensitiveText = (text: string): string => {
  let out = text.replace(SECRETS_IN_TEXT, `$1${REDACTED}`).replace(BEARER_IN_TEXT, `Bearer ${REDACTED}`);
  for (const pattern of PHONES_IN_TEXT) {
    out = out.replace(pattern, (match) => {
      const digits = match.replace(/\D/g, '');
      return digits.length >= 8 ? maskSpelledPhone(match) : match;
    });
  }
  return out;
};

/**
 * The log line's JSON replacer: values under secret-like keys (`apikey`, `token`, `authorization`,
 * `password`, `credential*`, ...) are replaced, values under phone-like keys and strings that look
 * like phones are masked, and phones or secrets inside longer text are masked in place.
 * Runs on every key at every depth, including error messages and stacks.
 */
export const maskSensitive = (key: string, value: unknown): unknown => {
  if (key !== '' && isSecretKey(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'number' && isPhoneKey(key)) return maskSpelledPhone(String(value));
  if (typeof value !== 'string') return value;
  // Already masked upstream (maskPhone output): leave it readable.
  if (isPhoneKey(key)) return value.includes('*') ? value : maskSpelledPhone(value);
  if (isWholePhone(value)) return maskSpelledPhone(value);
  return maskSensitiveText(value);
};

/**
 * Structured JSON logs (Powertools Logger) for Lambda and local runs alike. Every line goes through
 * `maskSensitive`, so a phone or a secret passed by mistake still never reaches the log in full;
 * child loggers (`createChild`) inherit it.
 */
export const createLogger = (level: LogLevel, serviceName = 'billing'): Logger =>
  new Logger({ serviceName, logLevel: level, jsonReplacerFn: maskSensitive });

export type { Logger };
