import { describe, expect, it } from 'vitest';
import { signCallback, verifyCallbackSignature } from '../../lib/domain/callback-signature.ts';

const BODY = '{"event":"sent","queue_id":"q-1"}';
const T = 1_700_000_000;
// Computed outside the code under test:
//   printf '%s' '1700000000.{"event":"sent","queue_id":"q-1"}' | openssl dgst -sha256 -hmac 'whsec_primeiro'
const V1_PRIMEIRO = 'be145797031425fa6a0dd6fadab991e6ef051e0cca2cb42a9a12431fa0e9c925';
//   same body, -hmac 'whsec_segundo'
const V1_SEGUNDO = '313be1a39cd281fd2fd73048983ad57ca8214296e9e0c76b322425d47860f97c';

describe('signCallback', () => {
  it('matches a vector computed with openssl', () => {
    // Act
    const header = signCallback('whsec_primeiro', BODY, T);

    // Assess
    expect(header).toBe(`t=${T},v1=${V1_PRIMEIRO}`);
  });

  it('signs UTF-8 bodies as UTF-8 bytes', () => {
    // Prepare: printf '%s' '1700000000.{"evento":"entregue","nome":"João"}' | openssl dgst -sha256 -hmac 'whsec_primeiro'
    const body = '{"evento":"entregue","nome":"João"}';

    // Act
    const header = signCallback('whsec_primeiro', body, T);

    // Assess
    expect(header).toBe(`t=${T},v1=2ced3443165db9cf4d75e88a5e8eac9269ba230cb62ff1d665340a9370afb0b0`);
  });

  it('emits one v1 per secret during a rotation, in the order given', () => {
    // Act
    const header = signCallback(['whsec_primeiro', 'whsec_segundo'], BODY, T);

    // Assess
    expect(header).toBe(`t=${T},v1=${V1_PRIMEIRO},v1=${V1_SEGUNDO}`);
  });

  it('throws on an empty secret or a fractional timestamp (bugs, not inputs)', () => {
    // Act / Assess
    expect(() => signCallback('', BODY, T)).toThrow(/secret/);
    expect(() => signCallback([], BODY, T)).toThrow(/secret/);
    expect(() => signCallback('s', BODY, T + 0.5)).toThrow(/unix seconds/);
  });
});

describe('verifyCallbackSignature', () => {
  const header = `t=${T},v1=${V1_PRIMEIRO}`;

  it('accepts the known vector within the tolerance window', () => {
    // Act / Assess
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T)).toBe(true);
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T + 300)).toBe(true);
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T - 300)).toBe(true);
  });

  it('accepts a rotated header with either secret, and a single-signature header with a new secret list', () => {
    // Prepare
    const rotated = signCallback(['whsec_primeiro', 'whsec_segundo'], BODY, T);

    // Act / Assess
    expect(verifyCallbackSignature(rotated, BODY, ['whsec_primeiro'], T)).toBe(true);
    expect(verifyCallbackSignature(rotated, BODY, ['whsec_segundo'], T)).toBe(true);
    expect(verifyCallbackSignature(header, BODY, ['whsec_segundo', 'whsec_primeiro'], T)).toBe(true);
    expect(verifyCallbackSignature(rotated, BODY, ['whsec_terceiro'], T)).toBe(false);
  });

  it('refuses a tampered body', () => {
    // Act / Assess
    expect(verifyCallbackSignature(header, BODY.replace('q-1', 'q-2'), ['whsec_primeiro'], T)).toBe(false);
    expect(verifyCallbackSignature(header, `${BODY} `, ['whsec_primeiro'], T)).toBe(false);
  });

  it('refuses a wrong secret or no secret at all', () => {
    // Act / Assess
    expect(verifyCallbackSignature(header, BODY, ['whsec_outro'], T)).toBe(false);
    expect(verifyCallbackSignature(header, BODY, [], T)).toBe(false);
    expect(verifyCallbackSignature(header, BODY, [''], T)).toBe(false);
  });

  it('refuses a stale or far-future timestamp, honouring a custom tolerance', () => {
    // Act / Assess
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T + 301)).toBe(false);
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T - 301)).toBe(false);
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T + 60, 30)).toBe(false);
    expect(verifyCallbackSignature(header, BODY, ['whsec_primeiro'], T + 60, 60)).toBe(true);
  });

  it('refuses a timestamp changed after signing', () => {
    // Prepare: the signature covers "<t>.<body>", so moving t to look fresh breaks it.
    const moved = `t=${T + 1000},v1=${V1_PRIMEIRO}`;

    // Act / Assess
    expect(verifyCallbackSignature(moved, BODY, ['whsec_primeiro'], T + 1000)).toBe(false);
  });

  it.each([
    ['', 'empty'],
    [`v1=${V1_PRIMEIRO}`, 'no timestamp'],
    [`t=${T}`, 'no signature'],
    [`t=${T},v0=${V1_PRIMEIRO}`, 'only an unknown scheme'],
    [`t=abc,v1=${V1_PRIMEIRO}`, 'non-numeric timestamp'],
    [`t=${T},t=${T + 1},v1=${V1_PRIMEIRO}`, 'two timestamps'],
    [`t=${T},v1=${V1_PRIMEIRO.slice(0, 63)}`, 'short signature'],
    [`t=${T},v1=${V1_PRIMEIRO}zz`, 'non-hex signature'],
    [`t=${T};v1=${V1_PRIMEIRO}`, 'wrong separator'],
    [`t=${T},garbage`, 'a part without "="'],
  ])('refuses a malformed header (%j: %s)', (malformed) => {
    // Act / Assess
    expect(verifyCallbackSignature(malformed, BODY, ['whsec_primeiro'], T)).toBe(false);
  });

  it('accepts upper-case hex, spaces around parts and an extra unknown scheme', () => {
    // Prepare
    const lenient = `t=${T}, v1=${V1_PRIMEIRO.toUpperCase()}, v0=abc`;

    // Act / Assess
    expect(verifyCallbackSignature(lenient, BODY, ['whsec_primeiro'], T)).toBe(true);
  });
});
