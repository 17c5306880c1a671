/**
 * Message templates: mustache rendering without HTML escaping (the output is WhatsApp text),
 * a linter that explains in Portuguese what is wrong with a template, and variable helpers.
 */
import Mustache from 'mustache';
import { CREDITOR_VARIABLES } from './creditor.ts';
import { DomainError } from './errors.ts';

/**
 * The guide's contact fields, the variables the service calculates from the due date, and the
 * creditor's name and CNPJ (the tenant's fixed values, or sent by the ERP).
 */
export const KNOWN_VARIABLES = [
  'nome_cliente',
  'telefone',
  'valor',
  'data_vencimento',
  'valor_total',
  'codigo_pix',
  'link_pagamento',
  'numero_fatura',
  'titulo',
  'mensagem',
  'dias_atraso',
  'dias_para_vencer',
  'status_vencimento',
  CREDITOR_VARIABLES.name,
  CREDITOR_VARIABLES.document,
] as const;
export type KnownVariable = (typeof KNOWN_VARIABLES)[number];

export type TemplateProblemKind = 'malformed' | 'unknown_variable' | 'unsupported_tag';

export interface TemplateProblem {
  kind: TemplateProblemKind;
  /** The tag as written in the template (`{{foo}}`, `{{> rodape}}`, `{nome_cliente}`), when one can be named. */
  tag?: string;
  /** pt-BR, shown to whoever edits the template. */
  message: string;
}

export interface TemplateLintReport {
  ok: boolean;
  problems: TemplateProblem[];
}

// Passed on every call so a change to Mustache's global `tags` or `escape` elsewhere cannot leak in.
const TAGS: [string, string] = ['{{', '}}'];
const RENDER_OPTIONS = { tags: TAGS, escape: (value: unknown): string => String(value) };

// A mustache token: [type, value, start, end, children?, ...]. Typed loosely because @types/mustache
// describes three tuple shapes and we only read these positions.
type Token = [string, string, number, number, ...unknown[]];

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
// A single brace around a name (`{nome_cliente}` or `{nome_cliente}}`), not part of a `{{` tag.
const SINGLE_BRACE_RE = /(?<!\{)\{(?!\{)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}+/g;

/** Renders `template` with `variables`, leaving every value exactly as given (no HTML escaping). */
export const renderTemplate = (template: string, variables: Record<string, string | number>): string => {
  // A null-prototype view so `{{constructor}}` or `{{toString}}` render empty instead of Object's members.
  const view: Record<string, string | number> = Object.assign(Object.create(null), variables);
  return Mustache.render(template, view, {}, RENDER_OPTIONS);
};

/** Checks a template for syntax errors, variables nobody provides and tags the service does not support. */
export const lintTemplate = (
  template: string,
  extraVariables: readonly string[] = [],
): TemplateLintReport => {
  if (template.trim() === '') {
    return report([{ kind: 'malformed', message: 'O template está vazio' }]);
  }
  const allowed = new Set<string>([...KNOWN_VARIABLES, ...extraVariables]);
  const problems: TemplateProblem[] = [];
  const seen = new Set<string>();
  const add = (problem: TemplateProblem): void => {
    const key = `${problem.kind}\u0000${problem.tag ?? problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  };

  let tokens: Token[];
  try {
    tokens = parse(template);
  } catch (error) {
    add(parseErrorProblem(template, error));
    // Single braces are still worth reporting: they are often the reason the parse failed.
    for (const problem of singleBraceProblems(template, allowed)) add(problem);
    return report(problems);
  }

  const texts: string[] = [];
  walk(tokens, 0, (token, sectionDepth) => {
    const [type, value, start, end] = token;
    const source = template.slice(start, end);
    switch (type) {
      case 'text':
        texts.push(value);
        return;
      case '!':
        return;
      case '>':
        add({
          kind: 'unsupported_tag',
          tag: source,
          message: `Partials não são suportados (${source}); escreva o texto direto no template`,
        });
        return;
      case '=':
        add({
          kind: 'unsupported_tag',
          tag: source,
          message: `Troca de delimitadores não é suportada (${source}); use {{ e }}`,
        });
        return;
      default: {
        const name = value.trim();
        if (name === '') {
          add({ kind: 'malformed', tag: source, message: `Tag vazia ${source}: informe o nome da variável` });
          return;
        }
        // `{{.}}` is the value of the enclosing section (`{{#codigo_pix}}{{.}}{{/codigo_pix}}`).
        if (name === '.') {
          if (sectionDepth > 0 && (type === 'name' || type === '&')) return;
          add({
            kind: 'unsupported_tag',
            tag: source,
            message: `${source} só pode ser usado dentro de uma seção, como {{#codigo_pix}}{{.}}{{/codigo_pix}}`,
          });
          return;
        }
        if (!NAME_RE.test(name)) {
          add({
            kind: 'malformed',
            tag: source,
            message: `Tag mal formada ${source}: o nome da variável só pode ter letras, números e _`,
          });
          return;
        }
        if (!allowed.has(name)) add(unknownVariableProblem(name, source, allowed));
      }
    }
  });
  for (const problem of singleBraceProblems(texts.join('\n'), allowed)) add(problem);
  return report(problems);
};

/** Throws `TEMPLATE_INVALID` with every problem, in Portuguese, when `lintTemplate` finds any. */
export const assertValidTemplate = (template: string, extraVariables: readonly string[] = []): void => {
  const { ok, problems } = lintTemplate(template, extraVariables);
  if (!ok) {
    throw new DomainError(
      'TEMPLATE_INVALID',
      { reason: problems.map((p) => p.message).join('; ') },
      problems,
    );
  }
};

/**
 * The variable names a template uses (values and sections), each once, in order of appearance.
 * Throws `TEMPLATE_INVALID` when the template cannot be parsed.
 */
export const templateVariables = (template: string): string[] => {
  let tokens: Token[];
  try {
    tokens = parse(template);
  } catch (error) {
    throw new DomainError('TEMPLATE_INVALID', { reason: parseErrorProblem(template, error).message });
  }
  const names = new Set<string>();
  walk(tokens, 0, ([type, value]) => {
    const name = value.trim();
    if ((type === 'name' || type === '&' || type === '#' || type === '^') && name !== '' && name !== '.') {
      names.add(name);
    }
  });
  return [...names];
};

/** The names in `required` that `variables` lacks: absent, null/undefined, or a blank string. */
export const missingVariables = (required: readonly string[], variables: Record<string, unknown>): string[] =>
  required.filter((name) => {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  });

const report = (problems: TemplateProblem[]): TemplateLintReport => ({ ok: problems.length === 0, problems });

const parse = (template: string): Token[] => Mustache.parse(template, TAGS) as unknown as Token[];

const walk = (tokens: Token[], depth: number, visit: (token: Token, sectionDepth: number) => void): void => {
  for (const token of tokens) {
    visit(token, depth);
    const children = token[4];
    if ((token[0] === '#' || token[0] === '^') && Array.isArray(children)) {
      walk(children as Token[], depth + 1, visit);
    }
  }
};

const unknownVariableProblem = (name: string, source: string, allowed: Set<string>): TemplateProblem => {
  const sameIgnoringCase = [...allowed].find((known) => known.toLowerCase() === name.toLowerCase());
  const hint = sameIgnoringCase
    ? ` Você quis dizer {{${sameIgnoringCase}}}?`
    : ' Use uma variável conhecida ou declare-a nas variáveis do template.';
  return { kind: 'unknown_variable', tag: source, message: `Variável desconhecida ${source}.${hint}` };
};

const singleBraceProblems = (text: string, allowed: Set<string>): TemplateProblem[] => {
  const problems: TemplateProblem[] = [];
  for (const match of text.matchAll(SINGLE_BRACE_RE)) {
    const name = match[1] ?? '';
    // Only next to a name we know: `{` alone is ordinary text (`R$ {valor a combinar}`).
    if (allowed.has(name)) {
      problems.push({
        kind: 'malformed',
        tag: match[0],
        message: `Chaves simples em ${match[0]}: use chaves duplas, {{${name}}}`,
      });
    }
  }
  return problems;
};

// Mustache's parse errors are English and name positions; translate the ones it throws in 4.2.
const parseErrorProblem = (template: string, error: unknown): TemplateProblem => {
  const text = error instanceof Error ? error.message : String(error);
  const unopened = /^Unopened section "(.*)" at \d+$/.exec(text);
  if (unopened) {
    const tag = `{{/${unopened[1]}}}`;
    return { kind: 'malformed', tag, message: `Seção ${tag} fechada sem ter sido aberta` };
  }
  const unclosed = /^Unclosed section "(.*)" at \d+$/.exec(text);
  if (unclosed) {
    const tag = `{{#${unclosed[1]}}}`;
    return {
      kind: 'malformed',
      tag,
      message: `Seção ${tag} não foi fechada corretamente: feche com {{/${unclosed[1]}}} antes de outra seção`,
    };
  }
  if (text.startsWith('Unclosed tag')) {
    const tag = unclosedTagSnippet(template);
    return {
      kind: 'malformed',
      ...(tag ? { tag } : {}),
      message: `Tag aberta com {{ e não fechada com }}${tag ? ` em ${tag}` : ''}`,
    };
  }
  if (text.startsWith('Invalid tags')) {
    return { kind: 'malformed', message: 'Delimitadores inválidos na troca de delimitadores' };
  }
  return { kind: 'malformed', message: 'Template mal formado' };
};

// Every tag before the unclosed one parsed, so the culprit is the first `{{` after the last `}}`.
const unclosedTagSnippet = (template: string): string | undefined => {
  const lastClose = template.lastIndexOf('}}');
  const open = template.indexOf('{{', lastClose === -1 ? 0 : lastClose + 2);
  if (open === -1) return undefined;
  const rest = template.slice(open);
  const line = rest.split('\n', 1)[0] ?? rest;
  return line.length > 30 ? `${line.slice(0, 30)}…` : line;
};
