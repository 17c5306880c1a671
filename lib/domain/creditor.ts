import type { BillingConfig } from './tenant-types.ts';

/**
 * The template variables that name the creditor (CDC art. 42-A). A tenant that configures its
 * name and CNPJ has them in every contact's variables, without the ERP sending them.
 */
export const CREDITOR_VARIABLES = { name: 'empresa', document: 'cnpj' } as const;

/** The tenant's fixed variables (`empresa`, `cnpj`), those it has configured. */
export const creditorVariables = (
  config: Pick<BillingConfig, 'creditorName' | 'creditorDocument'>,
): Record<string, string> => ({
  ...(config.creditorName ? { [CREDITOR_VARIABLES.name]: config.creditorName } : {}),
  ...(config.creditorDocument ? { [CREDITOR_VARIABLES.document]: config.creditorDocument } : {}),
});
