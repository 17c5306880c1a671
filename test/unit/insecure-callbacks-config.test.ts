import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';

describe('insecure callbacks setting (lib/config.ts)', () => {
  const LAMBDA = { AWS_LAMBDA_FUNCTION_NAME: 'fn', SCHEDULER_DRIVER: 'none' };
  const cases = [
    { env: {}, allowed: true, why: 'on by default outside Lambda (local development)' },
    { env: LAMBDA, allowed: false, why: 'off by default in Lambda' },
    {
      env: { ...LAMBDA, ALLOW_INSECURE_CALLBACKS: 'true' },
      allowed: true,
      why: 'on for a development stage',
    },
    { env: { ALLOW_INSECURE_CALLBACKS: 'false' }, allowed: false, why: 'off when asked locally' },
    { env: { ...LAMBDA, PRODUCTION_STAGE: 'true' }, allowed: false, why: 'off on a production stage' },
  ];

  for (const c of cases) {
    it(`is ${c.allowed ? 'on' : 'off'}: ${c.why}`, () => {
      // Act
      const config = loadConfig(c.env);
      // Assess
      expect(config.allowInsecureCallbacks).toBe(c.allowed);
    });
  }

  it('refuses to start a production stage with insecure callbacks on', () => {
    // Act
    const start = () => loadConfig({ ...LAMBDA, PRODUCTION_STAGE: 'true', ALLOW_INSECURE_CALLBACKS: 'true' });
    // Assess
    expect(start).toThrow(/ALLOW_INSECURE_CALLBACKS: insecure callbacks are for local development/);
  });
});
