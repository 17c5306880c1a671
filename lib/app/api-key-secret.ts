import { createHash, randomBytes } from 'node:crypto';

/** Keys carry 256 bits of randomness, so a plain SHA-256 is the right storage (no slow hash needed). */
export const API_KEY_PREFIX = 'billing_';

export const generateApiKey = (): string => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Enough of the key to recognise it in a listing, far too little to use it. */
export const displayPrefix = (key: string): string => key.slice(0, API_KEY_PREFIX.length + 4);

/** Secret for signing ERP callbacks (HMAC-SHA256); shown once, like the key. */
export const generateSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;
