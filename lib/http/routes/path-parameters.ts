import { DomainError } from '../../domain/errors.ts';
import type { HttpRequest } from '../http-handler.ts';
import type { RequestPart } from '../route.ts';
import { phoneParamsSchema } from '../schemas/common.ts';
import { queueIdParamsSchema } from '../schemas/queues.ts';

/** Path parameters several routes share, with the answer an invalid one gets. */

/** A malformed queue id is not found, as an unknown one or another tenant's: the answer reveals nothing. */
export const QUEUE_ID_PARAMS: RequestPart<typeof queueIdParamsSchema> = {
  schema: queueIdParamsSchema,
  invalid: () => new DomainError('QUEUE_NOT_FOUND'),
};

/** A `{telefone}` that is not a phone: 400 INVALID_PHONE naming what was typed. */
export const PHONE_PARAMS = {
  schema: phoneParamsSchema,
  invalid: (request: HttpRequest) =>
    new DomainError('INVALID_PHONE', { value: request.pathParameters.telefone ?? '' }),
} satisfies RequestPart<typeof phoneParamsSchema>;
