import { describe, expect, it } from 'vitest';
import {
  CONTACT_BODY,
  contactAttributes,
  contactFromItem,
  contactToItem,
  packContactBody,
  unpackContactBody,
} from '../../lib/adapters/store/contact-item.ts';
import { acmeContact } from '../support/acme-queue.ts';

const contact = acmeContact(7, {
  invoiceNumber: null,
  variables: { nome_cliente: 'Ana Souza', valor: 'R$ 10,00', dias_atraso: 3, codigo_pix: '000201ABC' },
  renderedMessage: 'Olá Ana Souza, sua fatura de R$ 10,00 venceu. PIX: 000201ABC',
  createdAt: '2025-01-10T12:00:00.000Z',
});

describe('contact item', () => {
  it('stores no null, nothing the key says and the texts packed, and reads the contact back whole', () => {
    // Act
    const item = contactToItem(contact);

    // Assess
    expect(Object.values(item).filter((value) => value === null)).toEqual([]);
    expect(Object.keys(item)).not.toContain('id');
    expect(Object.keys(item)).not.toContain('queueId');
    expect(Object.keys(item)).not.toContain('position');
    expect(Object.keys(item)).not.toContain('variables');
    expect(item[CONTACT_BODY]).toBeInstanceOf(Uint8Array);
    expect(contactFromItem(item)).toEqual(contact);
  });

  it('round-trips variables (numbers included) and the text through the body', () => {
    // Act
    const body = packContactBody(contact.variables, contact.renderedMessage);

    // Assess
    expect(unpackContactBody(body)).toEqual({
      variables: contact.variables,
      renderedMessage: contact.renderedMessage,
    });
  });

  it('refuses a body of a format it does not know', () => {
    // Prepare
    const body = packContactBody(contact.variables, contact.renderedMessage);
    body[0] = 9;

    // Act + Assess
    expect(() => unpackContactBody(body)).toThrow(/unknown format 9/);
  });

  it('writes the texts only together, and removes a field set to null', () => {
    // Act
    const erased = contactAttributes({
      variables: { nome_cliente: 'x' },
      renderedMessage: 'x',
      lastError: null,
      name: 'x',
    });

    // Assess
    expect(Object.keys(erased.set).sort()).toEqual([CONTACT_BODY, 'name']);
    expect(erased.remove.sort()).toEqual(['lastError', 'renderedMessage', 'variables']);
    expect(() => contactAttributes({ renderedMessage: 'x' })).toThrow(/together/);
    expect(() => contactAttributes({ position: 3 })).toThrow(/key/);
  });
});
