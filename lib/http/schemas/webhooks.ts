import { z } from 'zod';
import './common.ts';

/** The path and the answer of Evolution's webhook route (its payload: evolution-webhook.ts). */

export const webhookParamsSchema = z.object({
  tenant_id: z.string().min(1).max(100).openapi({ example: 'demo' }),
  instance_id: z.string().min(1).max(100).openapi({ example: 'demo' }),
  event: z
    .string()
    .max(50)
    .optional()
    .openapi({ description: 'Sufixo do modo "por eventos" da Evolution.', example: 'messages-update' }),
});

export const webhookAckSchema = z
  .object({
    success: z.literal(true),
    result: z.enum(['applied', 'ignored']).openapi({
      description:
        '`ignored`: autenticado, mas nada muda (evento repetido, eco do nosso envio, evento ou status ' +
        'desconhecido, corpo ilegível, mensagem que não enviamos); registrado em log e contado na ' +
        'métrica `billing_webhooks_ignored_total` / `WebhooksIgnored` por motivo.',
    }),
  })
  .openapi('WebhookAck');
