import { capWindowStart, decideReminder, isCapped } from '../domain/frequency-cap.ts';
import type { BillingConfig, BusinessCalendar } from '../domain/tenant-types.ts';
import type { TemplateType } from '../domain/types.ts';
import type { ConversationStore } from '../ports/store.ts';

/**
 * The per-debtor frequency cap (domain: frequency-cap.ts) as one pump run applies it: before a
 * contact of a capped type is claimed, the phone's reminders of the cap's window are read from the
 * conversation history, together with the ones this run sent itself.
 *
 * Why the run remembers its sends: the history is read through an index, which is eventually
 * consistent, so a send of the last moment may not show yet. One instance's pump sends one message
 * at a time, so with its own sends remembered it never sends twice to a phone within the cap. What
 * is left (README, Frequency caps): two pumps (two instances of the tenant, or two runs taking over
 * from each other) sending to the same phone within the index lag plus one send's time.
 */
export class ReminderCaps {
  readonly #store: ConversationStore;
  readonly #tenantId: string;
  readonly #templateType: TemplateType;
  readonly #calendar: BusinessCalendar | undefined;
  /** Reminders this run sent (phone -> ISO instants, as the history records them). */
  readonly #sentThisRun = new Map<string, Set<string>>();

  constructor(
    deps: { store: ConversationStore },
    queue: { tenantId: string; templateType: TemplateType },
    calendar: BusinessCalendar | undefined,
  ) {
    this.#store = deps.store;
    this.#tenantId = queue.tenantId;
    this.#templateType = queue.templateType;
    this.#calendar = calendar;
  }

  /**
   * When a reminder to `phone` may go, if not now: undefined when it may go now (or the queue's
   * type is not capped), else the next allowed time inside business hours.
   */
  async deferUntil(phone: string, now: Date, config: BillingConfig): Promise<Date | undefined> {
    if (!isCapped(config, this.#templateType)) return undefined;
    const since = capWindowStart(config, now).toISOString();
    const stored = await this.#store.listRemindersSince(
      this.#tenantId,
      phone,
      since,
      config.frequencyCapTypes,
    );
    // The same send, in the history and remembered, counts once.
    const times = new Set([...stored, ...(this.#sentThisRun.get(phone) ?? [])].filter((at) => at >= since));
    const decision = decideReminder({
      caps: config,
      reminded: [...times].map((at) => new Date(at)),
      now,
      calendar: this.#calendar,
    });
    return decision.kind === 'defer' ? decision.until : undefined;
  }

  /** A message that may have reached `phone` at `at` (sent, or an unknown outcome). */
  noteSent(phone: string, at: Date, config: BillingConfig): void {
    if (!isCapped(config, this.#templateType)) return;
    const times = this.#sentThisRun.get(phone) ?? new Set<string>();
    times.add(at.toISOString());
    this.#sentThisRun.set(phone, times);
  }
}
