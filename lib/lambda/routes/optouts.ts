import { addOptOut, removeOptOut } from '../../app/opt-outs.ts';
import type { RouteFactory } from '../../composition.ts';
import { DomainError } from '../../domain/errors.ts';
import type { OptOut } from '../../domain/types.ts';
import {
  type OptOutBody,
  optOutCreateRequestSchema,
  optOutListQuerySchema,
  phoneParamsSchema,
  validate,
} from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';

const view = (o: OptOut): OptOutBody => ({
  telefone: o.phone,
  origem: o.source,
  motivo: o.reason,
  created_at: o.at,
});

/**
 * The tenant's suppression list: GET /api/v1/billing/optouts (newest first, paginated),
 * POST /api/v1/billing/optouts {telefone, motivo?}, DELETE /api/v1/billing/optouts/{telefone}.
 */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const tenantId = auth.tenant.id;
    if (request.method === 'GET') {
      const query = validate(optOutListQuerySchema, request.query);
      if (!query.ok) throw query.error;
      const page = await c.store.listOptOuts(tenantId, query.value);
      return {
        statusCode: 200,
        body: { success: true, opt_outs: page.items.map(view), next_cursor: page.nextCursor },
      };
    }
    if (request.method === 'POST') {
      const body = validate(optOutCreateRequestSchema, request.body);
      if (!body.ok) throw body.error;
      const { optOut, created } = await addOptOut(c, tenantId, body.value);
      return { statusCode: created ? 201 : 200, body: { success: true, created, opt_out: view(optOut) } };
    }
    if (request.method === 'DELETE') {
      const params = validate(phoneParamsSchema, request.pathParameters);
      if (!params.ok)
        throw new DomainError('INVALID_PHONE', { value: request.pathParameters.telefone ?? '' });
      const phone = await removeOptOut(c, tenantId, params.value.telefone);
      return {
        statusCode: 200,
        body: { success: true, message: 'Telefone removido da lista de opt-out', telefone: phone },
      };
    }
    throw new DomainError('METHOD_NOT_ALLOWED');
  });
