import {
  CONTACT_FIELD_NAMES,
  type ContactFieldName,
  extraVariableNameProblem,
} from '../http/schemas/billing.ts';

/**
 * Which spreadsheet column feeds which contact field. ERP exports name their columns as people
 * write them (`Nome do Cliente`, `Celular`, `Vencimento`, `Nº Fatura`), so headers are compared
 * folded (no case, no accents, punctuation as `_`) against the guide's field names and common
 * aliases; `--map coluna=campo` names the rest. Columns that match nothing are left out (and
 * listed), never sent: a spreadsheet's CPF or address column is personal data the reminder does
 * not need.
 */

/** A refusal of the command line or the file's header, explained to the person running the import. */
export class ImportUsageError extends Error {
  override readonly name = 'ImportUsageError';
}

/** `Nº da Fatura ` -> `no_da_fatura`: lower case, accents and ordinals folded, anything else `_`. */
export const foldName = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

/** Folded header spellings of each guide field beyond its own name (which always matches). */
const ALIASES: Record<ContactFieldName, readonly string[]> = {
  nome_cliente: ['nome', 'cliente', 'nome_do_cliente', 'nome_completo', 'devedor', 'sacado', 'razao_social'],
  telefone: ['celular', 'whatsapp', 'fone', 'tel', 'telefone_celular', 'numero_whatsapp', 'cel'],
  valor: ['valor_original', 'valor_da_parcela', 'valor_parcela', 'valor_devido', 'valor_do_titulo'],
  data_vencimento: ['vencimento', 'data_de_vencimento', 'dt_vencimento', 'vencto', 'dt_vencto'],
  valor_total: ['total', 'valor_atualizado', 'valor_com_juros', 'total_devido'],
  codigo_pix: ['pix', 'pix_copia_e_cola', 'copia_e_cola', 'codigo_do_pix', 'pix_copia_cola'],
  link_pagamento: ['link', 'link_de_pagamento', 'url_pagamento', 'link_do_boleto', 'url'],
  numero_fatura: [
    'fatura',
    'numero_da_fatura',
    'no_fatura',
    'n_fatura',
    'num_fatura',
    'no_da_fatura',
    'nota_fiscal',
  ],
  titulo: [],
  mensagem: [],
};

const FIELD_BY_FOLDED_NAME: ReadonlyMap<string, ContactFieldName> = new Map(
  CONTACT_FIELD_NAMES.flatMap((field) => [field, ...ALIASES[field]].map((name) => [name, field] as const)),
);

/** Without these no row can be a contact: checked on the header, before anything is sent. */
const REQUIRED_FIELDS: readonly ContactFieldName[] = ['nome_cliente', 'telefone'];

/** `--map` target that leaves a column out. */
export const IGNORE_COLUMN = '-';

/** A `--map` target: a guide field, a template variable name, or IGNORE_COLUMN. */
export type ColumnTarget = string;

/**
 * Parses the `--map coluna=campo` options into folded column name -> target. The column is
 * everything before the last `=` (a header may hold one); the target is a guide field or alias,
 * a template variable (`empresa`), or `-` to leave the column out.
 */
export const parseColumnMap = (options: readonly string[]): Map<string, ColumnTarget> => {
  const map = new Map<string, ColumnTarget>();
  for (const option of options) {
    const at = option.lastIndexOf('=');
    const column = foldName(option.slice(0, Math.max(at, 0)));
    const rawTarget = option.slice(at + 1).trim();
    if (at < 0 || !column || !rawTarget)
      throw new ImportUsageError(
        `--map ${option}: use --map "coluna=campo" (for example --map "Celular 2=telefone")`,
      );
    const target =
      rawTarget === IGNORE_COLUMN
        ? IGNORE_COLUMN
        : (FIELD_BY_FOLDED_NAME.get(foldName(rawTarget)) ?? rawTarget);
    if (target !== IGNORE_COLUMN && !FIELD_BY_FOLDED_NAME.has(target)) {
      const problem = extraVariableNameProblem(target);
      if (problem) throw new ImportUsageError(`--map ${option}: ${problem}`);
    }
    if (map.has(column) && map.get(column) !== target)
      throw new ImportUsageError(`--map names the column "${option.slice(0, at)}" twice`);
    map.set(column, target);
  }
  return map;
};

/** Where each column of the file goes. */
export interface ColumnPlan {
  /** Per column of the header, in order: the contact field or variable it fills, or null (left out). */
  targets: Array<ColumnTarget | null>;
  /** Headers of the columns left out, to tell the person running the import. */
  ignored: string[];
}

const describeHeaders = (headers: readonly string[]): string =>
  headers.map((h) => `"${h}"`).join(', ') || '(nenhuma)';

/**
 * Matches a header row against the explicit `--map` entries first, then the guide's field names
 * and aliases. Two columns that would fill the same field, a `--map` naming a column the file does
 * not have, or no column for the name or the phone are refused before anything is sent.
 */
export const planColumns = (
  headers: readonly string[],
  explicit: ReadonlyMap<string, ColumnTarget> = new Map(),
): ColumnPlan => {
  const folded = headers.map(foldName);
  for (const column of explicit.keys()) {
    if (!folded.includes(column))
      throw new ImportUsageError(
        `--map: the file has no column "${column}"; its columns are ${describeHeaders(headers)}`,
      );
  }
  const explicitTargets = new Set(explicit.values());
  const targets = folded.map((name): ColumnTarget | null => {
    const mapped = explicit.get(name);
    if (mapped !== undefined) return mapped === IGNORE_COLUMN ? null : mapped;
    const field = FIELD_BY_FOLDED_NAME.get(name);
    // A field an explicit --map already feeds is not filled a second time by an alias.
    return field && !explicitTargets.has(field) ? field : null;
  });

  const columnsOf = new Map<ColumnTarget, string[]>();
  targets.forEach((target, i) => {
    if (target) columnsOf.set(target, [...(columnsOf.get(target) ?? []), headers[i] ?? '']);
  });
  for (const [target, columns] of columnsOf) {
    if (columns.length > 1)
      throw new ImportUsageError(
        `columns ${describeHeaders(columns)} would all fill ${target}: choose one with --map "${columns[0]}=${target}"`,
      );
  }
  const missing = REQUIRED_FIELDS.filter((field) => !columnsOf.has(field));
  if (missing.length > 0)
    throw new ImportUsageError(
      `no column for ${missing.join(' and ')}: the file's columns are ${describeHeaders(headers)}; ` +
        `name it with --map "coluna=${missing[0]}"`,
    );
  return { targets, ignored: headers.filter((h, i) => targets[i] === null && h.trim() !== '') };
};

/** Whether some column fills `field` (e.g. the due date overdue and upcoming reminders need). */
export const plansField = (plan: ColumnPlan, field: ContactFieldName): boolean =>
  plan.targets.includes(field);
