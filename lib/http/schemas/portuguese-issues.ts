import type { z } from 'zod';
import type { FieldIssue } from './common.ts';

/**
 * zod's issues in Portuguese: the `errors` list of a 400 VALIDATION_FAILED, one
 * `{ field: 'contacts.0.telefone', message: '<pt-BR>' }` per invalid field.
 */

const TYPE_NAMES: Record<string, string> = {
  string: 'texto',
  number: 'número',
  int: 'número inteiro',
  boolean: 'verdadeiro/falso',
  array: 'lista',
  object: 'objeto',
  record: 'objeto',
};

type Issue = z.core.$ZodIssue;

/** Zod drops an issue's input unless asked (`reportInput`); its default English message still tells. */
const isMissing = (issue: Issue): boolean =>
  ('input' in issue && issue.input === undefined) || / received undefined$/.test(issue.message);

const sizeMessage = (issue: Extract<Issue, { code: 'too_big' | 'too_small' }>): string => {
  const big = issue.code === 'too_big';
  const limit = Number(
    big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum,
  );
  switch (issue.origin) {
    case 'string':
      if (!big && limit === 1) return 'Campo não pode ficar em branco';
      return big ? `Máximo de ${limit} caracteres` : `Mínimo de ${limit} caracteres`;
    case 'array':
    case 'set':
      if (!big && limit === 1) return 'Informe ao menos 1 item';
      return big ? `Máximo de ${limit} itens` : `Mínimo de ${limit} itens`;
    default:
      return big ? `Valor máximo: ${limit}` : `Valor mínimo: ${limit}`;
  }
};

const FORMAT_MESSAGES: Record<string, string> = {
  url: 'URL inválida (use http:// ou https://)',
  uuid: 'UUID inválido',
  email: 'E-mail inválido',
  datetime: 'Data e hora inválidas (ISO 8601)',
};

const messageOf = (issue: Issue): { path: PropertyKey[]; message: string } => {
  switch (issue.code) {
    case 'invalid_type':
      return {
        path: issue.path,
        message: isMissing(issue)
          ? 'Campo obrigatório'
          : `Tipo inválido: esperado ${TYPE_NAMES[issue.expected] ?? issue.expected}`,
      };
    case 'too_big':
    case 'too_small':
      return { path: issue.path, message: sizeMessage(issue) };
    case 'invalid_format':
      return { path: issue.path, message: FORMAT_MESSAGES[issue.format] ?? 'Formato inválido' };
    case 'invalid_value':
      return { path: issue.path, message: `Valor inválido. Use: ${issue.values.map(String).join(', ')}` };
    case 'invalid_union': {
      // Report the branch that says most: "bad URL" beats "not the empty string" or "not a number".
      const nested = issue.errors.flat();
      // Else the branch whose shape matched (an object or a list) and failed inside it: its issue
      // names a field (`0.numero_fatura`), where the others only say the whole value has a wrong type.
      const telling =
        nested.find((n) => n.code !== 'invalid_type' && n.code !== 'invalid_value') ??
        nested.find((n) => n.path.length > 0);
      if (telling) {
        const inner = messageOf(telling);
        return { path: [...issue.path, ...inner.path], message: inner.message };
      }
      return { path: issue.path, message: 'Tipo inválido' };
    }
    case 'unrecognized_keys':
      return { path: issue.path, message: `Campos não permitidos: ${issue.keys.join(', ')}` };
    case 'invalid_key':
      return { path: issue.path, message: 'Chave inválida' };
    case 'invalid_element':
      return { path: issue.path, message: 'Item inválido' };
    case 'custom':
      // Our own refinements already speak Portuguese.
      return { path: issue.path, message: issue.message };
    default:
      return { path: issue.path, message: 'Valor inválido' };
  }
};

/** Turns zod issues into the `errors` list of a 400: `{ field: 'contacts.0.telefone', message: '<pt-BR>' }`. */
export const formatZodIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => {
    const { path, message } = messageOf(issue);
    return { field: path.length ? path.map(String).join('.') : 'body', message };
  });
