import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm run chaos -- --receipts --store-outages 1 --store-hangs 1 --counter-throttles 1` as a user
 * runs it, with few kills: the stack (its own process) is SIGKILLed while accepting and while
 * sending, restarted on the same data, cut off from its store (DynamoDB unreachable) for a while as
 * it sends, another while left without the store's answers to requests the store carried out, and
 * another while refused its queue counters writes (a throttled hot item); every accepted debtor
 * must get exactly one message (or be reported `unknown`), the gateway's receipts must reach every
 * sent contact through the kills (WhatsApp's delivery and read, posted to the stack's webhook and
 * repeated by the gateway while the stack is down), and the ERP must get every callback of their
 * outcomes, receipts included, and of their queues' completion, signed; each queue's receipt
 * counters must agree with its contacts. A duplicate, a loss, a receipt never applied or never
 * counted, or a missing callback here is a product bug.
 */

const KILLS = 3;

const runChaos = (driver: string): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/chaos.ts',
        '--kills',
        String(KILLS),
        '--driver',
        driver,
        '--batch-size',
        '20',
        '--receipts',
        '--store-outages',
        '1',
        '--store-hangs',
        '1',
        '--counter-throttles',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => {
      output += String(d);
    });
    child.stderr.on('data', (d) => {
      output += String(d);
    });
    child.on('close', (code) => resolve({ code, output }));
  });

describe.each(['sqs', 'rabbitmq'])('npm run chaos (%s driver)', (driver) => {
  it(`reports ${KILLS} kills, a store outage, a store hang and a counters throttle, none duplicated, none lost, every receipt applied and counted, no callback missing`, async () => {
    // Act
    const { code, output } = await runChaos(driver);

    // Assess (the whole output is the message: it names every kill, finding and the kept logs)
    const lines = output.trim().split('\n');
    expect(lines.at(-1), output).toBe(
      `chaos: ${KILLS} kills, 1 store outage, 1 store hang, 1 counters throttle, 0 duplicated, 0 lost, 0 callbacks missing`,
    );
    // The ERP's endpoint heard from every contact and queue (their callbacks are owed, kills or not).
    const callbacks = lines.find((l) => / callbacks: \d+ of \d+ owed received/.test(l));
    expect(callbacks, output).toMatch(
      /callbacks: (\d+) of \1 owed received, 0 missing, \d+ posted more than once .*, 0 badly signed$/,
    );
    // Every contact sent was read in the end: no receipt was lost to a kill.
    expect(
      lines.find((l) => / receipts: \d+ read/.test(l)),
      output,
    ).toMatch(/receipts: [1-9]\d* read, 0 delivered, 0 sent and never acknowledged/);
    // And each queue's delivered and read counters say so (a receipt whose counters write a kill cut
    // off is counted by the sweeper's recount, which the run waits for).
    expect(
      lines.find((l) => / receipt counters: \d+ of \d+ queues agree/.test(l)),
      output,
    ).toMatch(/receipt counters: (\d+) of \1 queues agree with their contacts; delivered \+0, read \+0$/);
    expect(code, output).toBe(0);
    // The kills really happened, in both phases, and the stack came back after each.
    expect(
      lines.filter((l) => / kill \d+\/3 during accepting: SIGKILL/.test(l)),
      output,
    ).toHaveLength(1);
    expect(
      lines.filter((l) => / kill \d+\/3 during sending: SIGKILL/.test(l)),
      output,
    ).toHaveLength(2);
    expect(
      lines.filter((l) => / restart \d+\/3: stack up again/.test(l)),
      output,
    ).toHaveLength(KILLS);
    // The outage, the hang and the throttle happened, and ended.
    expect(
      lines.filter((l) =>
        / store outage 1\/1 (during sending: DynamoDB unreachable|over: DynamoDB reachable again)/.test(l),
      ),
      output,
    ).toHaveLength(2);
    expect(
      lines.filter((l) =>
        / store hang 1\/1 (during sending: DynamoDB taking requests and not answering|over: DynamoDB answering again)/.test(
          l,
        ),
      ),
      output,
    ).toHaveLength(2);
    expect(
      lines.filter((l) =>
        / counters throttle 1\/1 (during sending: DynamoDB throttling the queues' counters writes \(a hot item\)|over: DynamoDB taking counters writes again)/.test(
          l,
        ),
      ),
      output,
    ).toHaveLength(2);
  }, 600_000);
});
