import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, maskSensitive, maskSensitiveText, REDACTED } from '../../lib/observability/logger.ts';

/** Runs `act` with stdout and stderr captured (Powertools writes info to stdout, warn and error to stderr). */
const captureOutput = (act: () => void): string => {
  const chunks: string[] = [];
  const collect = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(collect);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(collect);
  try {
    act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
};

describe('logger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('masks phones and redacts keys in a JSON line when attributes carry them', () => {
    // Prepare
    const logger = createLogger('INFO', 'billing-test');

    // Act
    const output = captureOutput(() =>
      logger.info('contact processed', {
        phone: '+5511999999999',
        apikey: 'abc',
        nested: { telefone: '11 99999-9999' },
      }),
    );

    // Assess
    const line = JSON.parse(output.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'contact processed',
      service: 'billing-test',
      phone: '+55 11 *****-9999',
      apikey: REDACTED,
      nested: { telefone: '+55 11 *****-9999' },
    });
    expect(output).not.toContain('999999999');
    expect(output).not.toContain('99999-9999');
    expect(output).not.toContain('"abc"');
  });

  it('masks child loggers, error messages and persistent keys when the phone hides in text', () => {
    // Prepare
    const logger = createLogger('INFO').createChild({
      persistentKeys: { queueId: 'q-1', whatsapp: '5511988887777' },
    });
    const error = Object.assign(new Error('Evolution: number 5511988887777@s.whatsapp.net not found'), {
      token: 'tok-123',
    });

    // Act
    const output = captureOutput(() =>
      logger.error('send failed for +55 (11) 98888-7777', {
        error,
        headers: { Authorization: 'Bearer s3cr3t', 'X-Billing-API-Key': 'bk_live_1' },
        url: 'http://evolution.local/message?apikey=zzz',
        credentialRef: 'env:EVOLUTION_KEY',
      }),
    );

    // Assess
    expect(output).not.toMatch(/98888-?7777/);
    expect(output).not.toContain('5511988887777');
    for (const secret of ['tok-123', 's3cr3t', 'bk_live_1', 'zzz', 'env:EVOLUTION_KEY']) {
      expect(output).not.toContain(secret);
    }
    const line = JSON.parse(output.trim()) as { queueId: string; whatsapp: string; message: string };
    expect(line.queueId).toBe('q-1');
    expect(line.whatsapp).toBe('+55 11 *****-7777');
    expect(line.message).toBe('send failed for +55 11 *****-7777');
  });

  it('leaves ids, timestamps and statuses alone when they only contain digits', () => {
    // Act
    const text = maskSensitiveText(
      'queue 550e8400-e29b-41d4-a716-446655440000 at 2024-01-01T10:00:00.000Z epoch 1700000000000 CPF 123.456.789-09',
    );

    // Assess
    expect(text).toBe(
      'queue 550e8400-e29b-41d4-a716-446655440000 at 2024-01-01T10:00:00.000Z epoch 1700000000000 CPF 123.456.789-09',
    );
    expect(maskSensitive('to', 'running')).toBe('running');
    expect(maskSensitive('attempts', 3)).toBe(3);
    expect(maskSensitive('phone', '+55 11 *****-9999')).toBe('+55 11 *****-9999');
  });
});
