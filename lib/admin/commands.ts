import {
  addInstance,
  removeInstance,
  setDefaultInstance,
  setInstanceActive,
  setInstanceWarmup,
  updateInstance,
} from '../app/add-instance.ts';
import { generateSigningSecret } from '../app/api-key-secret.ts';
import { configureTenant } from '../app/configure-tenant.ts';
import { controlQueue, type QueueAction } from '../app/control-queue.ts';
import { createApiKey } from '../app/create-api-key.ts';
import { createTenant, defaultCalendar } from '../app/create-tenant.ts';
import { dropDeadLetter, listDeadLetters, redriveDeadLetters } from '../app/dead-letters.ts';
import { eraseDebtor } from '../app/erase-debtor.ts';
import { setBusinessHours } from '../app/set-business-hours.ts';
import { setTemplate } from '../app/set-template.ts';
import type { Container } from '../composition.ts';
import type { CollectionFinding } from '../domain/collection-lint.ts';
import { DomainError } from '../domain/errors.ts';
import type { BillingTemplate, BusinessCalendar, Tenant } from '../domain/tenant-types.ts';
import { type BillingQueue, QUEUE_STATUSES, type QueueStatus } from '../domain/types.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';
import {
  CONFIG_FLAG_NAMES,
  calendarFromFlags,
  configPatch,
  type Flags,
  limitFlag,
  list,
  optional,
  queueStatus,
  readJsonFile,
  required,
  templateType,
  UsageError,
  warmupFlags,
} from './flags.ts';
import { formatCalendar, formatHuman, formatWarnings } from './human-output.ts';
import { configureInstanceWebhook } from './instance-webhook.ts';

/**
 * What a command works with: the product's container plus, from the CLI's connection, the work
 * queue's dead letters (optional, so a command can also run on a plain container, as tests do).
 */
export type AdminContainer = Container & { deadLetters?: DeadLetters };

export interface Command {
  usage: string;
  run(c: AdminContainer, flags: Flags): Promise<unknown>;
  /** How a person reads the result (without `--json`); a generic table or list when absent. */
  human?(result: unknown): string;
}

/** The dead letters and what redriving needs, or a clear refusal on a container without them. */
const deadLetterDeps = (c: AdminContainer) => {
  const { deadLetters } = c;
  if (!deadLetters) throw new UsageError('no dead-letter queue is connected');
  return { store: c.store, workQueue: c.workQueue, deadLetters };
};

const existingTenant = async (c: Container, flags: Flags) => {
  const id = required(flags, 'tenant');
  const tenant = await c.store.getTenant(id);
  if (!tenant) throw new DomainError('TENANT_NOT_FOUND', { id });
  return tenant;
};

/** A tenant as printed: without its erasure salt (whoever holds it can try phones against the digests). */
const shownTenant = ({ erasureSalt: _salt, ...tenant }: Tenant): Omit<Tenant, 'erasureSalt'> => tenant;

/** The key `--tenant` and `--id` name. */
const existingKey = async (c: Container, flags: Flags) => {
  const tenantId = required(flags, 'tenant');
  const keyId = required(flags, 'id');
  const key = await c.store.getApiKeyById(tenantId, keyId);
  if (!key) throw new DomainError('API_KEY_NOT_FOUND');
  return { tenantId, keyId, key };
};

/** Every queue of a tenant (newest first, as the store lists them), following the cursors. */
const allQueues = async (c: Container, tenantId: string, status?: QueueStatus): Promise<BillingQueue[]> => {
  const all: BillingQueue[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.store.listQueues(tenantId, { limit: 100, cursor, ...(status ? { status } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
};

const existingQueue = async (c: Container, flags: Flags): Promise<BillingQueue> => {
  const id = required(flags, 'id');
  const queue = await c.store.getQueue(id);
  if (!queue) throw new DomainError('QUEUE_NOT_FOUND');
  return queue;
};

/** The guide's troubleshooting steps (pause, resume, cancel a queue) without a Python shell. */
const queueControlCommand = (action: QueueAction): Command => ({
  usage: `queue ${action} --id <queue id>`,
  run: async (c, f) => {
    const queue = await existingQueue(c, f);
    // The operator acts for the queue's own tenant: the same use case and rules as the ERP's API.
    const result = await controlQueue(c, queue.tenantId, queue.id, action);
    return { message: result.message, queue_id: result.queue.id, status: result.queue.status };
  },
});

export const COMMANDS: Record<string, Command> = {
  'tenant create': {
    usage: 'tenant create --id <id> [--name <name>] [config flags]',
    run: (c, f) =>
      createTenant(c, { id: required(f, 'id'), name: optional(f, 'name'), config: configPatch(f) }),
  },
  'tenant list': { usage: 'tenant list', run: async (c) => (await c.store.listTenants()).map(shownTenant) },
  'tenant show': {
    usage: 'tenant show --tenant <id>',
    run: async (c, f) => shownTenant(await existingTenant(c, f)),
  },
  'tenant config': {
    usage: `tenant config --tenant <id> ${CONFIG_FLAG_NAMES.map((n) => `[--${n} <v>]`).join(' ')}`,
    run: async (c, f) => {
      const patch = configPatch(f);
      if (Object.keys(patch).length === 0)
        throw new UsageError('nothing to change: pass at least one config flag');
      return shownTenant(await configureTenant(c, required(f, 'tenant'), patch));
    },
  },
  'key create': {
    usage:
      'key create --tenant <id> [--name <name>] [--description <text>] [--types overdue,upcoming] [--scopes send,read,control] [--ips 200.1.2.0/24,...] [--expires 2027-01-01]',
    run: async (c, f) => {
      const created = await createApiKey(c, {
        tenantId: required(f, 'tenant'),
        name: optional(f, 'name') ?? 'API key',
        description: optional(f, 'description') ?? '',
        allowedTemplateTypes: list(optional(f, 'types')),
        scopes: list(optional(f, 'scopes')),
        allowedIps: list(optional(f, 'ips')),
        expiresAt: optional(f, 'expires') ?? null,
      });
      return {
        key: created.key,
        signing_secret: created.signingSecret,
        note: 'Guarde a chave e o segredo de assinatura agora: eles não serão mostrados de novo.',
        ...created.apiKey,
      };
    },
  },
  'key list': {
    usage: 'key list --tenant <id>',
    run: async (c, f) => {
      const tenant = await existingTenant(c, f);
      // The signing secrets are shown once at creation, never in listings.
      return (await c.store.listApiKeys(tenant.id)).map(({ signingSecrets: _s, keyHash: _h, ...k }) => k);
    },
  },
  'key revoke': {
    usage: 'key revoke --tenant <id> --id <key id>',
    run: async (c, f) => {
      const revoked = await c.store.revokeApiKey(required(f, 'tenant'), required(f, 'id'));
      if (!revoked) throw new DomainError('API_KEY_NOT_FOUND');
      return { revoked: required(f, 'id') };
    },
  },
  'key rotate-secret': {
    usage: 'key rotate-secret --tenant <id> --id <key id>',
    run: async (c, f) => {
      const { tenantId, keyId, key } = await existingKey(c, f);
      // The new secret goes first; the old ones stay valid, so callbacks carry one v1 per secret
      // until the ERP has switched and `key drop-old-secret` is run.
      const signingSecret = generateSigningSecret();
      await c.store.setApiKeySigningSecrets(tenantId, keyId, [signingSecret, ...key.signingSecrets]);
      return {
        id: keyId,
        signing_secret: signingSecret,
        active_secrets: key.signingSecrets.length + 1,
        note: 'Guarde o novo segredo agora: ele não será mostrado de novo. Os callbacks são assinados com todos os segredos até `key drop-old-secret`.',
      };
    },
  },
  'key drop-old-secret': {
    usage: 'key drop-old-secret --tenant <id> --id <key id>',
    run: async (c, f) => {
      const { tenantId, keyId, key } = await existingKey(c, f);
      const [newest] = key.signingSecrets;
      if (!newest) throw new UsageError('the key has no signing secret');
      await c.store.setApiKeySigningSecrets(tenantId, keyId, [newest]);
      return { id: keyId, dropped: key.signingSecrets.length - 1, active_secrets: 1 };
    },
  },
  'template set': {
    usage:
      'template set --tenant <id> --type overdue|upcoming|notification --file <template.json> [--strict] (checked against the CDC collection rules)',
    run: async (c, f) => {
      const { template, warnings } = await setTemplate(
        c,
        required(f, 'tenant'),
        templateType(f),
        await readJsonFile(required(f, 'file')),
        { strict: f.strict === true },
      );
      return { ...template, warnings };
    },
    human: (result) => {
      const { warnings, ...template } = result as BillingTemplate & { warnings: CollectionFinding[] };
      return `${formatHuman(template)}\n${formatWarnings(warnings)}`;
    },
  },
  'template list': {
    usage: 'template list --tenant <id>',
    run: async (c, f) => c.store.listTemplates((await existingTenant(c, f)).id),
  },
  'hours set': {
    usage:
      'hours set --tenant <id> (--file <hours.json> | --mon 09:00-18:00 ... --sun closed [--replace]) [--timezone <IANA>] [--region SP] [--national-holidays | --no-national-holidays] [--closed 2026-12-24,2026-12-31]',
    run: async (c, f) => {
      const tenant = await existingTenant(c, f);
      const fromFile = optional(f, 'file');
      const wanted = fromFile
        ? ((await readJsonFile(fromFile)) as never)
        : calendarFromFlags(
            (await c.store.getCalendar(tenant.id)) ?? defaultCalendar(tenant.config.timezone),
            f,
          );
      const { calendar, warnings } = await setBusinessHours(c, tenant.id, wanted);
      return { ...calendar, warnings };
    },
    human: (result) => {
      const { warnings, ...calendar } = result as BusinessCalendar & { warnings: CollectionFinding[] };
      return `${formatCalendar(calendar)}\n${formatWarnings(warnings)}`;
    },
  },
  'hours show': {
    usage: 'hours show --tenant <id>',
    run: async (c, f) => (await c.store.getCalendar((await existingTenant(c, f)).id)) ?? null,
    human: (calendar) => (calendar ? formatCalendar(calendar as BusinessCalendar) : '(sem horário definido)'),
  },
  'instance add': {
    usage:
      'instance add --tenant <id> --name <evolution instance> --url <evolution base url> --credential env:VAR|ssm:/path|plain:key [--id <id>] [--webhook-secret <s>] [--no-warmup (an old number) | --warmup-first-day <n> --warmup-growth <x>]',
    run: (c, f) => {
      const warmup = warmupFlags(f);
      if (f['no-warmup'] === true && Object.keys(warmup).length > 0)
        throw new UsageError('--no-warmup takes no --warmup-first-day or --warmup-growth');
      return addInstance(c, {
        tenantId: required(f, 'tenant'),
        instanceName: required(f, 'name'),
        baseUrl: required(f, 'url'),
        credentialRef: required(f, 'credential'),
        ...(optional(f, 'id') ? { id: optional(f, 'id') } : {}),
        ...(optional(f, 'webhook-secret') ? { webhookSecret: optional(f, 'webhook-secret') } : {}),
        ...(f['no-warmup'] === true
          ? { warmup: { enabled: false } }
          : Object.keys(warmup).length > 0
            ? { warmup }
            : {}),
      });
    },
  },
  'instance warmup': {
    usage:
      "instance warmup --tenant <id> --instance <id> [--on | --off] [--warmup-first-day <n>] [--warmup-growth <x>] [--restart] (a new number's daily ramp; --off for an old number)",
    run: (c, f) => {
      if (f.on === true && f.off === true) throw new UsageError('pass --on or --off, not both');
      const changes = {
        ...warmupFlags(f),
        ...(f.on === true ? { enabled: true } : f.off === true ? { enabled: false } : {}),
        ...(f.restart === true ? { restart: true } : {}),
      };
      if (Object.keys(changes).length === 0)
        throw new UsageError(
          'nothing to change: pass --on, --off, --warmup-first-day, --warmup-growth or --restart',
        );
      return setInstanceWarmup(c, required(f, 'tenant'), required(f, 'instance'), changes);
    },
  },
  'instance activate': {
    usage: 'instance activate --tenant <id> --instance <id> (queues waiting for an instance start at once)',
    run: (c, f) => setInstanceActive(c, required(f, 'tenant'), required(f, 'instance'), true),
  },
  'instance deactivate': {
    usage:
      "instance deactivate --tenant <id> --instance <id> (its queues move to the tenant's next active instance)",
    run: (c, f) => setInstanceActive(c, required(f, 'tenant'), required(f, 'instance'), false),
  },
  'instance update': {
    usage:
      'instance update --tenant <id> --instance <id> [--url <evolution base url>] [--credential env:VAR|ssm:/path|plain:key] [--name <evolution instance>]',
    run: (c, f) => {
      const changes = {
        ...(optional(f, 'url') ? { baseUrl: optional(f, 'url') } : {}),
        ...(optional(f, 'credential') ? { credentialRef: optional(f, 'credential') } : {}),
        ...(optional(f, 'name') ? { instanceName: optional(f, 'name') } : {}),
      };
      if (Object.keys(changes).length === 0)
        throw new UsageError('nothing to change: pass --url, --credential or --name');
      return updateInstance(c, required(f, 'tenant'), required(f, 'instance'), changes);
    },
  },
  'instance set-default': {
    usage: 'instance set-default --tenant <id> --instance <id> (batches that name no instance go through it)',
    run: (c, f) => setDefaultInstance(c, required(f, 'tenant'), required(f, 'instance')),
  },
  'instance remove': {
    usage:
      "instance remove --tenant <id> --instance <id> (its queues move to the tenant's default or oldest active instance)",
    run: (c, f) => removeInstance(c, required(f, 'tenant'), required(f, 'instance')),
  },
  'instance list': {
    usage: 'instance list --tenant <id>',
    run: async (c, f) => c.store.listInstances((await existingTenant(c, f)).id),
  },
  'instance webhook': {
    usage:
      'instance webhook --tenant <id> --instance <id> --url <base url: on AWS the evolutionWebhook output, locally the API> [--jwt] (configures the webhook in Evolution)',
    run: (c, f) =>
      configureInstanceWebhook(c, {
        tenantId: required(f, 'tenant'),
        instanceId: required(f, 'instance'),
        publicUrl: required(f, 'url'),
        jwt: f.jwt === true || f.jwt === 'true',
      }),
  },
  'queue list': {
    usage: `queue list --tenant <id> [--status ${QUEUE_STATUSES.join('|')}]`,
    run: async (c, f) => {
      const status = queueStatus(f);
      return allQueues(c, (await existingTenant(c, f)).id, status);
    },
  },
  'queue show': { usage: 'queue show --id <queue id>', run: (c, f) => existingQueue(c, f) },
  'queue pause': queueControlCommand('pause'),
  'queue resume': queueControlCommand('resume'),
  'queue cancel': queueControlCommand('cancel'),
  'debtor erase': {
    usage:
      "debtor erase --tenant <id> --phone <telefone> (LGPD: erases the debtor's personal data across the tenant; an opt-out stays as a salted digest)",
    run: async (c, f) => {
      const tenant = await existingTenant(c, f);
      // One request walks for a bounded time (the API's limit); the command goes on until the walk
      // is done: what may still be left then is a contact in flight, or another request's hold.
      let erasure = await eraseDebtor(c, tenant, required(f, 'phone'), 'cli');
      while (erasure.state === 'in_progress' && erasure.inFlight === 0)
        erasure = await eraseDebtor(c, tenant, required(f, 'phone'), 'cli');
      const { erasureId, counts, inFlight, queuesChecked, state } = erasure;
      return {
        erasure_id: erasureId,
        complete: state === 'complete',
        in_flight: inFlight,
        queues_checked: queuesChecked,
        contacts: counts.contacts,
        contacts_cancelled: counts.contactsCancelled,
        messages: counts.messages,
        callback_events: counts.callbackEvents,
        opt_outs: counts.optOuts,
        campaign_rejections: counts.campaignRejections,
        ...(state === 'busy'
          ? {
              note: 'Outra requisição está apagando os dados deste telefone agora: repita em alguns segundos.',
            }
          : inFlight > 0
            ? { note: 'Há lembretes sendo enviados agora: repita o comando em alguns segundos.' }
            : {}),
      };
    },
  },
  'debtor erasures': {
    usage:
      'debtor erasures --tenant <id> [--limit <n>] (the audit records of erasures, newest first; no personal data)',
    run: async (c, f) => {
      const tenant = await existingTenant(c, f);
      const limit = optional(f, 'limit') === undefined ? 100 : limitFlag(f);
      const records = [];
      let cursor: string | undefined;
      do {
        const page = await c.store.listDebtorErasures(tenant.id, {
          limit: Math.min(100, limit - records.length),
          cursor,
        });
        records.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && records.length < limit);
      return records.map(({ id, at, requestedBy, phoneDigest, counts, inFlight, complete }) => ({
        id,
        at,
        requested_by: requestedBy,
        phone_digest: phoneDigest,
        ...counts,
        in_flight: inFlight,
        complete,
      }));
    },
  },
  'dlq list': {
    usage: 'dlq list [--limit <n>] (work items in the dead-letter queue, left there)',
    run: (c, f) => listDeadLetters(deadLetterDeps(c), limitFlag(f)),
  },
  'dlq redrive': {
    usage: 'dlq redrive [--limit <n>] (back on the work queue; items of finished or gone queues are dropped)',
    run: (c, f) => redriveDeadLetters(deadLetterDeps(c), limitFlag(f)),
  },
  'dlq drop': {
    usage:
      'dlq drop --id <message id> [--limit <n>] (removes one dead letter, e.g. a body that is not a work item)',
    run: async (c, f) => {
      const id = required(f, 'id');
      if (!(await dropDeadLetter(deadLetterDeps(c), id, limitFlag(f))))
        throw new UsageError(`no dead letter ${id} among the first ${limitFlag(f)} (see dlq list)`);
      return { dropped: id };
    },
  },
};
