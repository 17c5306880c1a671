import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAdmin } from '../../lib/admin/main.ts';
import { type QueueDriver, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/** Runs the CLI in-process against its own data dir (no stack running: it opens the dir itself). */
const admin = (dataDir: string, ...argv: string[]) => adminWith({ DATA_DIR: dataDir }, ...argv);

/** Runs the CLI in-process with the given environment, asking for JSON. */
const adminWith = (env: Record<string, string>, ...argv: string[]) => runCli(env, [...argv, '--json']);

/** Runs the CLI as a person does: readable output. */
const adminForPeople = (dataDir: string, ...argv: string[]) => runCli({ DATA_DIR: dataDir }, argv);

const runCli = async (env: Record<string, string>, argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await runAdmin(argv, env);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
};
const json = (s: string) => JSON.parse(s);

describe('admin CLI', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'billing-admin-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a tenant and refuses a second one with the same id', async () => {
    const first = await admin(dataDir, 'tenant', 'create', '--id', 'acme', '--name', 'ACME Ltda');
    const second = await admin(dataDir, 'tenant', 'create', '--id', 'acme');

    expect(first.code).toBe(0);
    expect(json(first.stdout)).toMatchObject({
      id: 'acme',
      name: 'ACME Ltda',
      config: { messagesPerMinute: 20 },
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('TENANT_EXISTS');
  });

  it('changes the pace and refuses bad values without writing anything', async () => {
    const ok = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'acme',
      '--messages-per-minute',
      '600',
      '--min-interval-seconds',
      '0',
    );
    const bad = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'acme',
      '--messages-per-minute=-5',
      '--max-retries',
      '2',
    );
    const shown = await admin(dataDir, 'tenant', 'show', '--tenant', 'acme');

    expect(ok.code).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_CONFIG');
    expect(json(shown.stdout).config).toMatchObject({
      messagesPerMinute: 600,
      minIntervalSeconds: 0,
      maxRetries: 3,
    });
  });

  it('creates a key shown once, lists it without secrets, and revokes it', async () => {
    const created = await admin(
      dataDir,
      'key',
      'create',
      '--tenant',
      'acme',
      '--types',
      'overdue,upcoming',
      '--ips',
      '200.1.2.0/24',
      '--expires',
      '2099-01-01',
    );
    const key = json(created.stdout);
    const listed = await admin(dataDir, 'key', 'list', '--tenant', 'acme');
    const revoked = await admin(dataDir, 'key', 'revoke', '--tenant', 'acme', '--id', key.id);
    const after = await admin(dataDir, 'key', 'list', '--tenant', 'acme');

    expect(created.code).toBe(0);
    expect(key.key).toMatch(/^billing_/);
    expect(key.signing_secret).toMatch(/^whsec_/);
    expect(key).toMatchObject({
      allowedTemplateTypes: ['overdue', 'upcoming'],
      allowedIps: ['200.1.2.0/24'],
    });
    expect(listed.stdout).not.toContain(key.key);
    expect(listed.stdout).not.toContain(key.signing_secret);
    expect(json(listed.stdout)).toHaveLength(1);
    expect(revoked.code).toBe(0);
    expect(json(after.stdout)[0].isActive).toBe(false);
  });

  it('refuses a key with an unknown type or a bad CIDR and stores none', async () => {
    const badType = await admin(dataDir, 'key', 'create', '--tenant', 'acme', '--types', 'overdue,boleto');
    const badIp = await admin(dataDir, 'key', 'create', '--tenant', 'acme', '--ips', '300.1.2.0/24');
    const listed = await admin(dataDir, 'key', 'list', '--tenant', 'acme');

    expect(badType.code).toBe(1);
    expect(badType.stderr).toContain('boleto');
    expect(badIp.code).toBe(1);
    expect(json(listed.stdout)).toHaveLength(1);
  });

  it('creates a read-only key with --scopes read, refuses an unknown scope, and gives a key without --scopes all three', async () => {
    const readOnly = await admin(dataDir, 'key', 'create', '--tenant', 'acme', '--scopes', 'read');
    const badScope = await admin(dataDir, 'key', 'create', '--tenant', 'acme', '--scopes', 'read,admin');
    const full = await admin(dataDir, 'key', 'create', '--tenant', 'acme');

    expect(readOnly.code).toBe(0);
    expect(json(readOnly.stdout).scopes).toEqual(['read']);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain('admin');
    expect(json(full.stdout).scopes).toEqual(['send', 'read', 'control']);
  });

  it('saves a template from a file and refuses one with an unknown tag', async () => {
    const good = join(dataDir, 'good.json');
    const bad = join(dataDir, 'bad.json');
    await writeFile(
      good,
      JSON.stringify({
        variations: [
          'Olá {{nome_cliente}}, {{valor}} venceu em {{data_vencimento}}.',
          'Oi {{nome_cliente}}!',
        ],
      }),
    );
    await writeFile(bad, JSON.stringify({ variations: ['Olá {{nome_do_cliente}}'] }));

    const saved = await admin(
      dataDir,
      'template',
      'set',
      '--tenant',
      'acme',
      '--type',
      'overdue',
      '--file',
      good,
    );
    const refused = await admin(
      dataDir,
      'template',
      'set',
      '--tenant',
      'acme',
      '--type',
      'upcoming',
      '--file',
      bad,
    );
    const listed = await admin(dataDir, 'template', 'list', '--tenant', 'acme');

    expect(saved.code).toBe(0);
    expect(json(saved.stdout).variations).toHaveLength(2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nome_do_cliente');
    expect(json(listed.stdout).map((t: { type: string }) => t.type)).toEqual(['overdue']);
  });

  it('sets business hours from flags and refuses an overnight window', async () => {
    const set = await admin(
      dataDir,
      'hours',
      'set',
      '--tenant',
      'acme',
      '--mon',
      '09:00-12:00,13:00-18:00',
      '--sat',
      '09:00-13:00',
      '--region',
      'SP',
    );
    const overnight = await admin(dataDir, 'hours', 'set', '--tenant', 'acme', '--fri', '22:00-02:00');
    const shown = await admin(dataDir, 'hours', 'show', '--tenant', 'acme');

    expect(set.code).toBe(0);
    expect(overnight.code).toBe(1);
    expect(overnight.stderr).toContain('OVERNIGHT_WINDOW');
    expect(json(shown.stdout)).toMatchObject({
      region: 'SP',
      weekly: {
        1: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '18:00' },
        ],
        6: [{ start: '09:00', end: '13:00' }],
      },
    });
  });

  it('changes only the weekdays given, keeps the rest of the calendar, replaces the week with --replace, and prints it', async () => {
    // Prepare: a known week, then holidays off
    await admin(
      dataDir,
      'hours',
      'set',
      '--tenant',
      'acme',
      '--replace',
      '--mon',
      '09:00-18:00',
      '--tue',
      '09:00-18:00',
    );
    await admin(
      dataDir,
      'hours',
      'set',
      '--tenant',
      'acme',
      '--no-national-holidays',
      '--closed',
      '2026-12-24',
    );

    // Act
    const changed = await adminForPeople(dataDir, 'hours', 'set', '--tenant', 'acme', '--tue', '10:00-16:00');
    const kept = json((await admin(dataDir, 'hours', 'show', '--tenant', 'acme')).stdout);
    const replaced = await admin(
      dataDir,
      'hours',
      'set',
      '--tenant',
      'acme',
      '--replace',
      '--wed',
      '08:00-12:00',
    );
    const refused = await admin(dataDir, 'hours', 'set', '--tenant', 'acme', '--replace');

    // Assess
    expect(changed.code).toBe(0);
    expect(changed.stdout).toMatch(/mon {2}09:00-18:00\n {2}tue {2}10:00-16:00\n {2}wed {2}closed/);
    expect(changed.stdout).toContain('national holidays: open');
    expect(changed.stdout).toContain('closed dates: 2026-12-24');
    expect(kept).toMatchObject({
      nationalHolidays: false,
      closedDates: ['2026-12-24'],
      weekly: { 1: [{ start: '09:00', end: '18:00' }], 2: [{ start: '10:00', end: '16:00' }] },
    });
    expect(json(replaced.stdout).weekly).toEqual({ 3: [{ start: '08:00', end: '12:00' }] });
    expect(json(replaced.stdout).nationalHolidays).toBe(false);
    expect(refused.code).toBe(2);
  });

  it('prints tables and fields for people, JSON with --json', async () => {
    // Act
    const listed = await adminForPeople(dataDir, 'tenant', 'list');
    const shown = await adminForPeople(dataDir, 'tenant', 'show', '--tenant', 'acme');
    const asJson = await admin(dataDir, 'tenant', 'list');

    // Assess
    const [header, rule, ...rows] = listed.stdout.split('\n');
    expect(header).toMatch(/^id +name +/);
    expect(rule).toMatch(/^-+ +-+/);
    expect(rows.some((row) => /^acme +ACME Ltda/.test(row))).toBe(true);
    expect(shown.stdout).toMatch(/^id: +acme$/m);
    expect(() => JSON.parse(listed.stdout)).toThrow();
    expect(json(asJson.stdout).map((t: { id: string }) => t.id)).toContain('acme');
  });

  it('adds an instance and refuses a bad credential reference', async () => {
    const added = await admin(
      dataDir,
      'instance',
      'add',
      '--tenant',
      'acme',
      '--name',
      'acme-1',
      '--url',
      'http://127.0.0.1:8081',
      '--credential',
      'env:EVOLUTION_API_KEY',
    );
    const bad = await admin(
      dataDir,
      'instance',
      'add',
      '--tenant',
      'acme',
      '--name',
      'acme-2',
      '--url',
      'http://x',
      '--credential',
      'the-key-itself',
    );
    const listed = await admin(dataDir, 'instance', 'list', '--tenant', 'acme');

    expect(added.code).toBe(0);
    expect(bad.code).toBe(1);
    expect(json(listed.stdout).map((i: { id: string }) => i.id)).toEqual(['acme-1']);
  });

  it('points an instance elsewhere, makes one the default, and removes one (clearing the default)', async () => {
    // Prepare: acme-1 from the test above, and a second one
    await admin(
      dataDir,
      'instance',
      'add',
      '--tenant',
      'acme',
      '--name',
      'acme-9',
      '--url',
      'http://127.0.0.1:8082',
      '--credential',
      'env:EVOLUTION_API_KEY',
    );

    // Act
    const updated = await admin(
      dataDir,
      'instance',
      'update',
      '--tenant',
      'acme',
      '--instance',
      'acme-1',
      '--url',
      'https://evo.example.com/',
      '--credential',
      'ssm:/billing/acme',
    );
    const badUpdate = await admin(
      dataDir,
      'instance',
      'update',
      '--tenant',
      'acme',
      '--instance',
      'acme-1',
      '--credential',
      'the-key-itself',
    );
    const madeDefault = await admin(
      dataDir,
      'instance',
      'set-default',
      '--tenant',
      'acme',
      '--instance',
      'acme-9',
    );
    const configured = json((await admin(dataDir, 'tenant', 'show', '--tenant', 'acme')).stdout).config;
    const removed = await admin(dataDir, 'instance', 'remove', '--tenant', 'acme', '--instance', 'acme-9');
    const removedAgain = await admin(
      dataDir,
      'instance',
      'remove',
      '--tenant',
      'acme',
      '--instance',
      'acme-9',
    );
    const after = json((await admin(dataDir, 'tenant', 'show', '--tenant', 'acme')).stdout).config;
    const listed = json((await admin(dataDir, 'instance', 'list', '--tenant', 'acme')).stdout);

    // Assess
    expect(updated.code).toBe(0);
    expect(json(updated.stdout)).toMatchObject({
      id: 'acme-1',
      baseUrl: 'https://evo.example.com',
      credentialRef: 'ssm:/billing/acme',
    });
    expect(badUpdate.code).toBe(1);
    expect(madeDefault.code).toBe(0);
    expect(configured.defaultInstanceId).toBe('acme-9');
    expect([removed.code, removedAgain.code]).toEqual([0, 1]);
    expect(removedAgain.stderr).toContain('INSTANCE_NOT_FOUND');
    expect(after.defaultInstanceId).toBeNull();
    expect(listed.map((i: { id: string }) => i.id)).toEqual(['acme-1']);
  });

  it('sets the per-debtor frequency caps, and refuses a negative one', async () => {
    // Prepare
    await admin(dataDir, 'tenant', 'create', '--id', 'caps');

    // Act
    const set = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'caps',
      '--max-reminders-per-debtor-per-day',
      '2',
      '--min-hours-between-reminders',
      '4.5',
      '--frequency-cap-types',
      'overdue,upcoming,notification',
    );
    const bad = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'caps',
      '--min-hours-between-reminders=-1',
    );
    const emptied = await admin(dataDir, 'tenant', 'config', '--tenant', 'caps', '--frequency-cap-types', '');

    // Assess
    expect(set.code).toBe(0);
    expect(json(set.stdout).config).toMatchObject({
      maxRemindersPerDebtorPerDay: 2,
      minHoursBetweenReminders: 4.5,
      frequencyCapTypes: ['overdue', 'upcoming', 'notification'],
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_CONFIG');
    expect(json(emptied.stdout).config.frequencyCapTypes).toEqual([]);
  });

  it('adds a new number warming up, an old one without, and switches and restarts a ramp', async () => {
    // Prepare
    await admin(dataDir, 'tenant', 'create', '--id', 'ramp');
    const add = (name: string, ...flags: string[]) =>
      admin(
        dataDir,
        'instance',
        'add',
        '--tenant',
        'ramp',
        '--name',
        name,
        '--url',
        'http://127.0.0.1:8082',
        '--credential',
        'env:EVOLUTION_API_KEY',
        ...flags,
      );
    const warmup = (...flags: string[]) =>
      admin(dataDir, 'instance', 'warmup', '--tenant', 'ramp', '--instance', 'nova', ...flags);

    // Act
    const fresh = await add('nova', '--warmup-first-day', '50');
    const old = await add('antiga', '--no-warmup');
    const both = await add('confusa', '--no-warmup', '--warmup-growth', '3');
    const off = await warmup('--off');
    const on = await warmup('--on', '--warmup-growth', '1.5', '--restart');
    const nothing = await warmup();
    const badGrowth = await warmup('--warmup-growth', '0.5');

    // Assess
    expect(json(fresh.stdout).warmup).toMatchObject({ enabled: true, firstDayLimit: 50, dailyGrowth: 2 });
    expect(json(old.stdout).warmup).toMatchObject({ enabled: false });
    expect(both.code).toBe(2);
    expect(json(off.stdout).warmup).toMatchObject({ enabled: false, firstDayLimit: 50 });
    expect(json(on.stdout).warmup).toMatchObject({ enabled: true, firstDayLimit: 50, dailyGrowth: 1.5 });
    expect(nothing.code).toBe(2);
    expect(badGrowth.code).toBe(1);
    expect(badGrowth.stderr).toContain('crescimento diário do aquecimento');
  });

  it("sets the creditor's name and CNPJ (formatted), refuses wrong check digits and clears them with ''", async () => {
    // Prepare
    await admin(dataDir, 'tenant', 'create', '--id', 'credor');

    // Act
    const set = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'credor',
      '--creditor-name',
      'Credor Ltda',
      '--creditor-document',
      '11222333000181',
    );
    const bad = await admin(
      dataDir,
      'tenant',
      'config',
      '--tenant',
      'credor',
      '--creditor-document',
      '11222333000182',
    );
    const cleared = await admin(dataDir, 'tenant', 'config', '--tenant', 'credor', '--creditor-name', '');

    // Assess
    expect(set.code).toBe(0);
    expect(json(set.stdout).config).toMatchObject({
      creditorName: 'Credor Ltda',
      creditorDocument: '11.222.333/0001-81',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('CNPJ ou CPF inválido');
    expect(json(cleared.stdout).config).toMatchObject({
      creditorName: null,
      creditorDocument: '11.222.333/0001-81',
    });
  });

  it('lists the collection-rule warnings of a template per variation, and refuses them with --strict or a strict tenant', async () => {
    // Prepare
    await admin(
      dataDir,
      'tenant',
      'create',
      '--id',
      'cdc',
      '--creditor-name',
      'CDC Ltda',
      '--creditor-document',
      '11.222.333/0001-81',
    );
    const file = join(dataDir, 'cdc.json');
    await writeFile(
      file,
      JSON.stringify({
        variations: [
          'Olá {{nome_cliente}}, {{valor}} venceu. {{empresa}}, CNPJ {{cnpj}}',
          'Olá {{nome_cliente}}, seu caloteiro: vamos avisar seu chefe. {{empresa}}, CNPJ {{cnpj}}',
        ],
      }),
    );
    const set = (...extra: string[]) =>
      admin(dataDir, 'template', 'set', '--tenant', 'cdc', '--type', 'overdue', '--file', file, ...extra);

    // Act
    const strict = await set('--strict');
    const afterStrict = json((await admin(dataDir, 'template', 'list', '--tenant', 'cdc')).stdout);
    const warned = await set();
    const forPeople = await adminForPeople(
      dataDir,
      'template',
      'set',
      '--tenant',
      'cdc',
      '--type',
      'overdue',
      '--file',
      file,
    );
    await admin(dataDir, 'tenant', 'config', '--tenant', 'cdc', '--strict-template-lint', 'true');
    const strictTenant = await set();

    // Assess
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('erro TEMPLATE_LINT_FAILED: Template recusado pelas regras de cobrança');
    expect(strict.stderr).toContain('variação 2: CDC_42_THIRD_PARTY_CONTACT (CDC art. 42)');
    expect(afterStrict).toEqual([]);
    expect(warned.code).toBe(0);
    expect(json(warned.stdout).variations).toHaveLength(2);
    expect(json(warned.stdout).warnings).toEqual([
      expect.objectContaining({
        variation: 2,
        code: 'CDC_42_THIRD_PARTY_CONTACT',
        excerpt: 'avisar seu chefe',
      }),
      expect.objectContaining({ variation: 2, code: 'CDC_42_INSULT', excerpt: 'caloteiro' }),
    ]);
    expect(forPeople.code).toBe(0);
    expect(forPeople.stdout).toContain('warnings (2):');
    expect(forPeople.stdout).toMatch(
      /^ {2}variação 2: CDC_42_INSULT \(CDC art\. 42\) Ofensa ao devedor.*\[“caloteiro”\]$/m,
    );
    expect(strictTenant.code).toBe(1);
    expect(strictTenant.stderr).toContain('TEMPLATE_LINT_FAILED');
  });

  it('sets hours outside the collection window with a warning per rule', async () => {
    // Act
    const set = await admin(
      dataDir,
      'hours',
      'set',
      '--tenant',
      'cdc',
      '--sat',
      '09:00-18:00',
      '--sun',
      '10:00-12:00',
    );
    const forPeople = await adminForPeople(dataDir, 'hours', 'set', '--tenant', 'cdc', '--sun', 'closed');
    const quiet = await adminForPeople(dataDir, 'hours', 'set', '--tenant', 'cdc', '--sat', 'closed');

    // Assess
    expect(set.code).toBe(0);
    expect(json(set.stdout).weekly[0]).toEqual([{ start: '10:00', end: '12:00' }]);
    expect(json(set.stdout).warnings.map((w: { code: string }) => w.code)).toEqual([
      'STATE_LAW_HOURS_SATURDAY',
      'STATE_LAW_HOURS_SUNDAY',
    ]);
    expect(forPeople.stdout).toMatch(/sat {2}09:00-18:00/);
    expect(forPeople.stdout).toMatch(
      /^ {2}horário: STATE_LAW_HOURS_SATURDAY \(legislação estadual.*\[“sáb 09:00-18:00”\]$/m,
    );
    expect(quiet.stdout).toContain('warnings: none');
  });

  it('answers usage errors with exit code 2', async () => {
    expect((await admin(dataDir, 'tenant', 'explode')).code).toBe(2);
    expect((await admin(dataDir, 'tenant', 'config', '--tenant', 'acme')).code).toBe(2);
    expect((await admin(dataDir, 'key', 'create', '--tenant', 'acme', '--bogus', 'x')).code).toBe(2);
  });

  it('says there is no SQS to look at when the stack is not running, and refuses a bad limit', async () => {
    // Prepare: the embedded SQS lives in the `npm start` process; none runs on this data dir.

    // Act
    const listed = await admin(dataDir, 'dlq', 'list');
    const badLimit = await admin(dataDir, 'dlq', 'redrive', '--limit', '0');

    // Assess
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain('no SQS to look at');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit takes an integer');
  });
});

describe.each<QueueDriver>(['sqs', 'rabbitmq'])('admin CLI queue commands (%s, stack running)', (driver) => {
  let s: SendingStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startSendingStack(driver);
    const { config } = s.test.container;
    // The CLI finds the running stack through DATA_DIR, and its work queue by name and driver.
    env = { DATA_DIR: config.DATA_DIR, WORK_QUEUE_NAME: config.WORK_QUEUE_NAME, QUEUE_DRIVER: driver };
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('lists, shows, pauses, resumes (publishing through the stack) and cancels a queue', async () => {
    // Prepare: 120 per minute, so the queue is still running while the CLI acts on it
    const tenant = await s.tenant({
      messagesPerMinute: 120,
      minIntervalSeconds: 0,
      jitterSeconds: 0,
      retryBackoffSeconds: 0,
    });
    const { queueId } = await s.sendBatch(tenant, 30);
    await waitFor(() => s.sent(tenant).length >= 2, { timeoutMs: 10_000, what: '2 sends' });

    // Act
    const running = await adminWith(env, 'queue', 'list', '--tenant', tenant.tenantId, '--status', 'running');
    const shown = await adminWith(env, 'queue', 'show', '--id', queueId);
    const paused = await adminWith(env, 'queue', 'pause', '--id', queueId);
    const atPause = (await s.status(tenant, queueId)).contacts_sent;
    const resumed = await adminWith(env, 'queue', 'resume', '--id', queueId);
    // Sending goes on only if the resume's work item reached the stack's queue.
    await waitFor(async () => (await s.status(tenant, queueId)).contacts_sent >= atPause + 2, {
      timeoutMs: 10_000,
      what: 'sends after the resume',
    });
    const cancelled = await adminWith(env, 'queue', 'cancel', '--id', queueId);
    // The pump writes the counter of its last send on its way out: wait for it, not for a clock.
    const after = await waitFor(
      async () => {
        const q = await s.status(tenant, queueId);
        return q.contacts_sent + q.contacts_cancelled === 30 && q;
      },
      { what: 'the counters to settle after the cancel' },
    );

    // Assess
    expect(running.code).toBe(0);
    expect(json(running.stdout).map((q: { id: string }) => q.id)).toEqual([queueId]);
    expect(shown.code).toBe(0);
    expect(json(shown.stdout)).toMatchObject({ id: queueId, tenantId: tenant.tenantId, totalContacts: 30 });
    expect(paused.code).toBe(0);
    expect(json(paused.stdout)).toMatchObject({ queue_id: queueId, status: 'paused' });
    expect(resumed.code).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({ queue_id: queueId, status: 'pending' });
    expect(cancelled.code).toBe(0);
    expect(json(cancelled.stdout)).toMatchObject({ queue_id: queueId, status: 'cancelled' });
    expect(after.status).toBe('cancelled');
    expect(after.contacts_sent + after.contacts_cancelled).toBe(30);
  }, 30_000);

  it("erases a debtor's data (LGPD), lists the audit record without the phone, and hides the tenant's salt", async () => {
    // Prepare: two debtors got their reminder.
    const tenant = await s.tenant();
    const { queueId, numbers } = await s.sendBatch(tenant, 2);
    await s.waitForStatus(tenant, queueId, ['completed']);
    const [erased, kept] = numbers;
    if (!erased || !kept) throw new Error('two numbers expected');

    // Act
    const done = await adminWith(env, 'debtor', 'erase', '--tenant', tenant.tenantId, '--phone', erased);
    const records = await adminWith(env, 'debtor', 'erasures', '--tenant', tenant.tenantId);
    const forPeople = await runCli(env, ['debtor', 'erasures', '--tenant', tenant.tenantId]);
    const shown = await adminWith(env, 'tenant', 'show', '--tenant', tenant.tenantId);
    const noPhone = await adminWith(env, 'debtor', 'erase', '--tenant', tenant.tenantId);
    const badPhone = await adminWith(env, 'debtor', 'erase', '--tenant', tenant.tenantId, '--phone', 'abc');
    const contacts = await s.test.get(`/api/v1/billing/queue/${queueId}/contacts`, { key: tenant.key });

    // Assess
    expect(done.code).toBe(0);
    expect(json(done.stdout)).toMatchObject({
      complete: true,
      queues_checked: 1,
      contacts: 1,
      messages: 1,
      contacts_cancelled: 0,
    });
    expect(contacts.body.contacts.map((c: { telefone: string }) => c.telefone)).toEqual([
      '[apagado LGPD]',
      `+${kept}`,
    ]);
    expect(records.code).toBe(0);
    expect(json(records.stdout)).toMatchObject([
      { id: json(done.stdout).erasure_id, requested_by: 'cli', contacts: 1, messages: 1, complete: true },
    ]);
    expect(json(records.stdout)[0].phone_digest).toMatch(/^lgpd:[0-9a-f]{64}$/);
    expect(records.stdout).not.toContain(erased.slice(-8));
    expect(forPeople.stdout).toContain('phone_digest');
    expect(Object.keys(json(shown.stdout))).not.toContain('erasureSalt');
    expect(noPhone.code).toBe(2);
    expect(noPhone.stderr).toContain('--phone');
    expect(badPhone.code).toBe(1);
    expect(badPhone.stderr).toContain('INVALID_PHONE');
  }, 30_000);

  it('refuses an unknown queue, a missing id, a bad status and a resume of a finished queue', async () => {
    // Prepare
    const tenant = await s.tenant();
    const { queueId } = await s.sendBatch(tenant, 2);
    await s.waitForStatus(tenant, queueId, ['completed']);

    // Act
    const unknown = await adminWith(env, 'queue', 'show', '--id', 'no-such-queue');
    const noId = await adminWith(env, 'queue', 'pause');
    const badStatus = await adminWith(env, 'queue', 'list', '--tenant', tenant.tenantId, '--status', 'done');
    const resumeFinished = await adminWith(env, 'queue', 'resume', '--id', queueId);
    const listed = await adminWith(env, 'queue', 'list', '--tenant', tenant.tenantId);

    // Assess
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('QUEUE_NOT_FOUND');
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('--id');
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain('--status');
    expect(resumeFinished.code).toBe(1);
    expect(resumeFinished.stderr).toContain('QUEUE_ALREADY_FINISHED');
    expect(json(listed.stdout)).toMatchObject([{ id: queueId, status: 'completed' }]);
  }, 30_000);
});
