import { z } from 'zod';
import './common.ts';

/**
 * Evolution's webhook envelope, for the documentation only: the route reads it as a tolerant reader
 * (lib/app/ingest-gateway-event.ts), so nothing here is enforced. Only `event`, `instance` and `data`
 * are read; every other field may be null, absent or of any type, and extra keys are allowed.
 */
export const evolutionWebhookSchema = z
  .looseObject({
    event: z
      .string()
      .optional()
      .openapi({
        description:
          'Nome do evento (`messages.update`, `messages.upsert`, `connection.update`, `send.message`); ' +
          'sem ele vale o sufixo do caminho (modo "por eventos").',
        example: 'messages.update',
      }),
    instance: z
      .unknown()
      .optional()
      .openapi({ description: 'Nome da instância na Evolution (só para logs).' }),
    data: z.unknown().optional().openapi({ description: 'O conteúdo do evento.' }),
    date_time: z
      .unknown()
      .optional()
      .openapi({
        description:
          'Hora local do servidor com sufixo `Z` (não é UTC); só se usa sua posição no quarto de hora. ' +
          'O cabeçalho `X-Timestamp` (2.4) tem precedência.',
      }),
    destination: z.unknown().optional().openapi({ description: 'Ignorado.' }),
    sender: z.unknown().optional().openapi({ description: 'Ignorado (ausente antes da primeira conexão).' }),
    server_url: z.unknown().optional().openapi({ description: 'Ignorado.' }),
    apikey: z
      .unknown()
      .optional()
      .openapi({ description: 'Ignorado (`null` na maioria dos servidores 2.x).' }),
  })
  .openapi('EvolutionWebhook', {
    example: {
      event: 'messages.update',
      instance: 'demo',
      data: {
        keyId: '3EB0A1B2C3D4E5F6A7B8C9',
        remoteJid: '5511999999999@s.whatsapp.net',
        fromMe: true,
        status: 'READ',
        instanceId: 'b7e4c1d2-0f4a-4c55-9d61-2f0b3c9e8a10',
      },
      destination: 'https://billing.example.com/api/v1/billing/webhooks/evolution/demo/demo',
      date_time: '2025-12-17T07:00:00.000Z',
      sender: '5511900000000@s.whatsapp.net',
      server_url: 'https://evolution.example.com',
      apikey: null,
    },
  });
