import { describe, expect, it } from 'vitest';
import {
  isWebhookAuthentic,
  signHs256Jwt,
  verifyHs256Jwt,
} from '../../lib/adapters/gateway/evolution-webhook-auth.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const SECRET = 'instance-secret';

describe('evolution-webhook-auth', () => {
  it('accepts the static secret header and a valid HS256 JWT, and refuses the rest', () => {
    // Prepare
    const seconds = NOW.getTime() / 1000;
    const good = signHs256Jwt({ iat: seconds, exp: seconds + 600 }, SECRET);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`;

    // Act
    const results = [
      isWebhookAuthentic(SECRET, { 'x-webhook-secret': SECRET }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `Bearer ${good}` }, NOW),
      isWebhookAuthentic(SECRET, {}, NOW),
      isWebhookAuthentic(SECRET, { 'x-webhook-secret': `${SECRET}!` }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `Bearer ${signHs256Jwt({}, 'other')}` }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `Bearer ${noneAlg}` }, NOW),
      isWebhookAuthentic('', { 'x-webhook-secret': '' }, NOW),
    ];

    // Assess
    expect(results).toEqual([true, true, false, false, false, false, false]);
  });

  it('refuses an expired JWT beyond a minute of leeway and one not yet valid', () => {
    // Prepare
    const seconds = NOW.getTime() / 1000;

    // Act
    const justExpired = verifyHs256Jwt(signHs256Jwt({ exp: seconds - 30 }, SECRET), SECRET, NOW);
    const expired = verifyHs256Jwt(signHs256Jwt({ exp: seconds - 61 }, SECRET), SECRET, NOW);
    const early = verifyHs256Jwt(
      signHs256Jwt({ nbf: seconds + 120, exp: seconds + 600 }, SECRET),
      SECRET,
      NOW,
    );

    // Assess
    expect([justExpired, expired, early]).toEqual([true, false, false]);
  });

  it('accepts the token real Evolution signs (jwt_key: iat, exp 10 minutes ahead, app, action)', () => {
    // Prepare: the claims of Evolution's WebhookController.generateJwtToken
    const seconds = Math.floor(NOW.getTime() / 1000);
    const evolution = signHs256Jwt(
      { iat: seconds, exp: seconds + 600, app: 'evolution', action: 'webhook' },
      SECRET,
    );

    // Act
    const accepted = isWebhookAuthentic(SECRET, { authorization: `Bearer ${evolution}` }, NOW);

    // Assess
    expect(accepted).toBe(true);
  });

  it('refuses a JWT without exp, with a non-numeric exp, or expiring more than an hour ahead', () => {
    // Prepare
    const seconds = NOW.getTime() / 1000;
    const verify = (claims: Record<string, unknown>) =>
      verifyHs256Jwt(signHs256Jwt(claims, SECRET), SECRET, NOW);

    // Act
    const results = {
      noExp: verify({ iat: seconds }),
      stringExp: verify({ exp: String(seconds + 600) }),
      aYear: verify({ exp: seconds + 365 * 86_400 }),
      justOverAnHour: verify({ exp: seconds + 3600 + 61 }),
      anHourAndLeeway: verify({ exp: seconds + 3600 + 60 }),
      anHour: verify({ exp: seconds + 3600 }),
    };

    // Assess
    expect(results).toEqual({
      noExp: false,
      stringExp: false,
      aYear: false,
      justOverAnHour: false,
      anHourAndLeeway: true,
      anHour: true,
    });
  });

  it('refuses a tampered payload, a foreign algorithm, a wrong number of parts and garbage', () => {
    // Prepare
    const seconds = NOW.getTime() / 1000;
    const good = signHs256Jwt({ exp: seconds + 600 }, SECRET);
    const [header, , signature] = good.split('.') as [string, string, string];
    const longer = Buffer.from(JSON.stringify({ exp: seconds + 3000 })).toString('base64url');
    const hs512 = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');

    // Act
    const results = [
      verifyHs256Jwt(good, SECRET, NOW),
      verifyHs256Jwt(`${header}.${longer}.${signature}`, SECRET, NOW),
      verifyHs256Jwt(`${hs512}.${good.split('.')[1]}.${signature}`, SECRET, NOW),
      verifyHs256Jwt(`${good}.extra`, SECRET, NOW),
      verifyHs256Jwt(good.split('.').slice(0, 2).join('.'), SECRET, NOW),
      verifyHs256Jwt('not-a-jwt', SECRET, NOW),
      verifyHs256Jwt(`${header}.bm90IGpzb24.${signature}`, SECRET, NOW),
    ];

    // Assess
    expect(results).toEqual([true, false, false, false, false, false, false]);
  });

  it('reads the Bearer scheme in any case, and falls back to the JWT when the static header is wrong', () => {
    // Prepare
    const seconds = NOW.getTime() / 1000;
    const token = signHs256Jwt({ exp: seconds + 600 }, SECRET);

    // Act
    const results = [
      isWebhookAuthentic(SECRET, { authorization: `bearer ${token}` }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `BEARER   ${token}  ` }, NOW),
      isWebhookAuthentic(SECRET, { 'x-webhook-secret': 'wrong', authorization: `Bearer ${token}` }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `Basic ${token}` }, NOW),
      isWebhookAuthentic(SECRET, { authorization: `Bearer ${token} trailing` }, NOW),
    ];

    // Assess
    expect(results).toEqual([true, true, true, false, false]);
  });
});
