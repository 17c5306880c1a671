import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_TABLE, type ErrorCode } from '../../domain/errors.ts';

/**
 * Building blocks every resource's schemas share (lib/http/schemas/<resource>.ts), and the error
 * body of every route. The schemas are the single source of truth for request validation, the
 * TypeScript types (`z.infer`) and the OpenAPI document (generated from the route list).
 * Field names are the guide's; human messages are Portuguese, codes English.
 *
 * Unknown top-level keys of a request are ignored (dropped), not refused: ERPs send extras
 * and the guide's DRF serializers ignore them too.
 */

// Once, before any `.openapi(...)`: every schema file imports this one first.
extendZodWithOpenApi(z);

export const API_KEY_HEADER = 'X-Billing-API-Key';

const ERROR_CODES = Object.keys(ERROR_TABLE) as [ErrorCode, ...ErrorCode[]];

/** An http(s) URL or an empty string (the guide's `URLField(allow_blank=True)`). */
export const urlOrBlank = () => z.union([z.url({ protocol: /^https?$/ }), z.literal('')]);

/** The ERP may send money as text (`"R$ 150,00"`) or as a number (`150`); both are kept as sent. */
export const money = () => z.union([z.string().max(50), z.number()]);

export const errorCodeSchema = z.enum(ERROR_CODES).openapi('ErrorCode', {
  description: 'Código estável (em inglês) do erro; programas devem comparar este campo, não a mensagem.',
});

export const isoInstant = () => z.string().openapi({ format: 'date-time', example: '2025-12-17T10:00:00Z' });

export const limitSchema = z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 });
export const cursorSchema = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .openapi({ description: 'O `next_cursor` da página anterior.' });

export const counter = () => z.number().int().min(0);

export const rejectedContactSchema = z
  .object({
    index: z.number().int().min(0).openapi({ description: 'Posição do contato em `contacts`.' }),
    telefone: z.string().openapi({ description: 'Como enviado.' }),
    code: errorCodeSchema,
    message: z.string(),
  })
  .openapi('RejectedContact', {
    example: {
      index: 1,
      telefone: '1133334444',
      code: 'PHONE_NOT_MOBILE',
      message: 'Telefone fixo não recebe WhatsApp; informe um celular',
    },
  });

export type RejectedContact = z.infer<typeof rejectedContactSchema>;

export const phoneParamsSchema = z.object({
  telefone: z.string().min(1).max(30).openapi({ example: '5511999999999' }),
});

/** The dashboard's asset name (any text: an unknown one is a 404). */
export const dashboardAssetParamsSchema = z.object({
  asset: z.string().openapi({ example: 'index-Cx4KUFQn.js' }),
});

/** The docs page's asset name (any text: an unknown one is a 404). */
export const docsAssetParamsSchema = z.object({
  asset: z.string().openapi({ example: 'swagger-ui.css' }),
});

export const fieldIssueSchema = z
  .object({
    field: z.string().openapi({ example: 'contacts.0.telefone' }),
    message: z.string().openapi({ example: 'Máximo de 20 caracteres' }),
  })
  .openapi('FieldIssue');

export type FieldIssue = z.infer<typeof fieldIssueSchema>;

export const errorResponseSchema = z
  .object({
    success: z.literal(false),
    code: errorCodeSchema,
    message: z.string().openapi({ description: 'Mensagem em português.', example: 'Dados inválidos' }),
    errors: z
      .union([z.array(fieldIssueSchema), z.array(rejectedContactSchema)])
      .optional()
      .openapi({
        description:
          'VALIDATION_FAILED: um item por campo inválido. NO_VALID_CONTACTS: um item por contato recusado.',
      }),
  })
  .openapi('ErrorResponse', {
    example: {
      success: false,
      code: 'VALIDATION_FAILED',
      message: 'Dados inválidos',
      errors: [{ field: 'contacts.0.telefone', message: 'Máximo de 20 caracteres' }],
    },
  });

export type ErrorResponseBody = z.infer<typeof errorResponseSchema>;

export const healthResponseSchema = z
  .object({
    status: z
      .enum(['ok', 'degraded'])
      .openapi({ description: '`degraded` (503) quando o banco ou a fila de trabalho está fora.' }),
    store: z.enum(['ok', 'unreachable']),
    work_queue: z
      .enum(['ok', 'unreachable', 'not_configured'])
      .openapi({ description: '`not_configured`: função implantada sem fila de trabalho.' }),
    gateway: z.enum(['open', 'connecting', 'close', 'unknown', 'not_configured']).openapi({
      description:
        'Estado da instância de demonstração na Evolution; `unknown` quando o gateway não responde. Não causa 503.',
    }),
    latency_ms: z.number(),
  })
  .openapi('HealthResponse', {
    example: { status: 'ok', store: 'ok', work_queue: 'ok', gateway: 'open', latency_ms: 4 },
  });
