import { describe, expect, it } from 'vitest';
import { chooseInstance } from '../../lib/domain/instance-choice.ts';
import { instance } from '../integration/store-contract/tenant-store-contract.ts';

const oldest = instance({ id: 'old', createdAt: '2025-01-01T00:00:00.000Z' });
const newer = instance({ id: 'new', createdAt: '2025-06-01T00:00:00.000Z' });
const off = instance({ id: 'off', createdAt: '2024-01-01T00:00:00.000Z', isActive: false });

describe('chooseInstance', () => {
  it.each([
    ['the named instance', ['new', 'old'], 'new'],
    ['the default when the named one is inactive', ['off', 'new'], 'new'],
    ['the default when none is named', [undefined, 'new'], 'new'],
    ['the oldest active when neither is usable', ['missing', null], 'old'],
  ])('picks %s', (_case, preferred, expected) => {
    // Act
    const chosen = chooseInstance([newer, off, oldest], preferred);

    // Assess
    expect(chosen?.id).toBe(expected);
  });

  it('has nothing to offer a tenant without an active instance', () => {
    // Act
    const chosen = chooseInstance([off], ['off']);

    // Assess
    expect(chosen).toBeUndefined();
  });
});
