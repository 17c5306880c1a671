import { z } from 'zod';
import { cursorSchema, isoInstant, limitSchema } from './common.ts';

/** The opt-outs resource: the tenant's suppression list. */

export const optOutCreateRequestSchema = z
  .object({
    telefone: z.string().trim().min(1).max(30).openapi({ example: '+5511999999999' }),
    motivo: z.string().max(500).optional().openapi({ example: 'Pediu por telefone para não receber mais' }),
  })
  .openapi('OptOutCreateRequest');

export const optOutListQuerySchema = z.object({
  limit: limitSchema,
  cursor: cursorSchema,
  telefone: z
    .string()
    .regex(/^[\d\s()+-]{1,30}$/, 'Use só dígitos')
    .optional()
    .openapi({ description: 'Busca: telefones que contêm estes dígitos.', example: '99999' }),
});

const optOutSchema = z
  .object({
    telefone: z.string().openapi({ description: 'E.164.', example: '+5511999999999' }),
    origem: z
      .enum(['reply', 'api'])
      .openapi({ description: '`reply`: o cliente respondeu (ex.: SAIR); `api`: cadastrado pela API.' }),
    motivo: z.string(),
    created_at: isoInstant(),
  })
  .openapi('OptOut');

export type OptOutBody = z.infer<typeof optOutSchema>;

export const optOutListResponseSchema = z
  .object({ success: z.literal(true), opt_outs: z.array(optOutSchema), next_cursor: z.string().nullable() })
  .openapi('OptOutListResponse');

export const optOutCreateResponseSchema = z
  .object({
    success: z.literal(true),
    created: z
      .boolean()
      .openapi({ description: '`false` quando o telefone já estava na lista (nada muda).' }),
    opt_out: optOutSchema,
  })
  .openapi('OptOutCreateResponse');

export const optOutDeleteResponseSchema = z
  .object({ success: z.literal(true), message: z.string(), telefone: z.string() })
  .openapi('OptOutDeleteResponse');

export type OptOutListResponse = z.infer<typeof optOutListResponseSchema>;
