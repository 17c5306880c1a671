import { checkDueDateForType, enrichDueDate, formatBrDate, parseDueDate } from './due-date.ts';
import { type ErrorCode, messageFor } from './errors.ts';
import { normalizeMoney } from './money.ts';
import { normalizePhone } from './phone.ts';
import { missingVariables } from './template.ts';
import type { ContactRejection, TemplateType } from './types.ts';

/** A contact as the ERP sent it (the guide's fields, plus extra string fields as variables). */
export interface ContactInput {
  nome_cliente: string;
  telefone: string;
  valor?: string | number;
  data_vencimento?: string;
  valor_total?: string | number;
  codigo_pix?: string;
  link_pagamento?: string;
  numero_fatura?: string;
  titulo?: string;
  mensagem?: string;
  [extra: string]: unknown;
}

/** A contact that passed every rule, with its E.164 phone and every template variable. */
export interface AcceptedContact {
  index: number;
  phone: string;
  name: string;
  invoiceNumber: string | null;
  variables: Record<string, string | number>;
}

export interface IntakeContext {
  templateType: TemplateType;
  /** Today in the tenant's timezone (`yyyy-mm-dd`). */
  today: string;
  allowLandlines: boolean;
  requiredVariables: readonly string[];
  /** E.164 phones that asked not to be contacted. */
  optedOut?: ReadonlySet<string>;
  /** The tenant's fixed variables (`empresa`, `cnpj`): every contact has them, whatever the ERP sent. */
  fixedVariables?: Readonly<Record<string, string>>;
}

export interface IntakeResult {
  accepted: AcceptedContact[];
  rejected: ContactRejection[];
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

type Check =
  | { ok: true; contact: AcceptedContact }
  | { ok: false; code: ErrorCode; params?: Record<string, string> };

const checkContact = (raw: ContactInput, index: number, ctx: IntakeContext): Check => {
  const phone = normalizePhone(raw.telefone, { allowLandlines: ctx.allowLandlines });
  if (!phone.ok) return { ok: false, code: phone.error.code, params: { value: raw.telefone } };
  if (ctx.optedOut?.has(phone.value.e164)) return { ok: false, code: 'OPTED_OUT' };

  const variables: Record<string, string | number> = {};
  // Extra fields first, so the guide's own fields always win.
  for (const [key, value] of Object.entries(raw))
    if (typeof value === 'string') variables[key] = value.trim();
  // The tenant's own identification is not the ERP's to change per contact.
  Object.assign(variables, ctx.fixedVariables);
  variables.nome_cliente = raw.nome_cliente.trim();
  variables.telefone = raw.telefone.trim();
  for (const field of ['valor', 'valor_total'] as const) {
    const value = raw[field];
    if (value === undefined || value === '') continue;
    const money = normalizeMoney(value);
    if (!money.ok) return { ok: false, code: money.error.code, params: { value: String(value) } };
    variables[field] = money.value;
  }

  const due = text(raw.data_vencimento);
  if (due) {
    const parsed = parseDueDate(due);
    if (!parsed.ok) return { ok: false, code: parsed.error.code, params: { value: due } };
    const enriched = enrichDueDate(parsed.value, ctx.today);
    const allowed = checkDueDateForType(ctx.templateType, enriched.status_vencimento);
    if (!allowed.ok) return { ok: false, code: allowed.error.code };
    // Whatever the ERP typed (`2026-12-05`, `5/12/2026`), the debtor reads `05/12/2026`; the
    // calculated values are added beside it.
    Object.assign(variables, { data_vencimento: formatBrDate(parsed.value) }, enriched);
  } else if (ctx.templateType !== 'notification') {
    return { ok: false, code: 'DUE_DATE_REQUIRED' };
  }

  const missing = missingVariables(ctx.requiredVariables, variables);
  if (missing.length > 0)
    return { ok: false, code: 'MISSING_VARIABLE', params: { name: missing.join(', ') } };

  return {
    ok: true,
    contact: {
      index,
      phone: phone.value.e164,
      name: raw.nome_cliente.trim(),
      invoiceNumber: text(raw.numero_fatura) ?? null,
      variables,
    },
  };
};

/**
 * The per-contact rules of the Accept path: phone, due date for the type, money, required
 * variables, opt-outs, and duplicates inside the batch (same phone and invoice). Every
 * refused contact is reported with its index, code and Portuguese message; nothing is dropped.
 */
export const takeInContacts = (contacts: readonly ContactInput[], ctx: IntakeContext): IntakeResult => {
  const accepted: AcceptedContact[] = [];
  const rejected: ContactRejection[] = [];
  const seen = new Set<string>();
  contacts.forEach((raw, index) => {
    const check = checkContact(raw, index, ctx);
    if (check.ok) {
      const key = `${check.contact.phone}|${check.contact.invoiceNumber ?? ''}`;
      if (!seen.has(key)) {
        seen.add(key);
        accepted.push(check.contact);
        return;
      }
    }
    const code: ErrorCode = check.ok ? 'DUPLICATE_CONTACT' : check.code;
    const params = check.ok ? {} : (check.params ?? {});
    rejected.push({ index, telefone: raw.telefone, code, message: messageFor(code, params) });
  });
  return { accepted, rejected };
};
