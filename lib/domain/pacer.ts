/**
 * The pace of one pump on one WhatsApp instance: when its next gateway call is due and what it
 * learns on the way. Numbers only: the caller reads the clock, sleeps, and reports back. The
 * interval itself is pacing.ts (`nextIntervalMs`); the instance lease carries `lastSendAt` across
 * pumps.
 */
import { minIntervalMs, nextIntervalMs, type PacingConfig, shortestIntervalMs } from './pacing.ts';

/** Recent sends kept to measure the rate (and recent pre-send work, to start it early enough). */
const RATE_WINDOW = 20;
/**
 * How long a call's synchronous part may take before the pace counts from its end instead of its
 * start (`noteCallIssued`): building a request takes well under this, a hold-up longer.
 */
const CALL_HOLDUP_MS = 1;
/**
 * The most of a late call's lateness the next interval wins back. Normal lateness (a claim slower
 * than the recent ones, a busy event loop) is a few ms, tens at worst; a call seconds late (a store
 * outage in between) is not made up by a run of sends at the floor.
 */
const MAX_CATCH_UP_MS = 50;
/**
 * How much earlier than the longest recent one the work before a send starts. Now and then that work
 * takes longer than any of the last 20 (a lease renewal, the counters flush beside the status read, a
 * store request slower than usual): without a margin that send goes out late, and without jitter
 * nothing wins it back (bench:send at 600/min: intervals up to 157 ms at 100, 114 ms with it). It
 * costs only a contact claimed a few ms earlier before its call.
 */
const PRE_SEND_MARGIN_MS = 25;
/** Extra spacing after WhatsApp answered `rate-overlimit`, decaying back to 1 over later sends. */
const RATE_LIMIT_SLOWDOWN = 4;
/** Weight of the newest sample in the moving average of timer lateness. */
const NEWEST_WEIGHT = 0.2;

const movingAverage = (average: number, sample: number): number =>
  (1 - NEWEST_WEIGHT) * average + NEWEST_WEIGHT * sample;

export class Pacer {
  readonly #random: () => number;
  #lastSendAt: number;
  /** The slot the last call aimed at (undefined: not told, or a pace taken over from the lease). */
  #lastSlotAt: number | undefined;
  /** The second draw of the current mirrored jitter pair, while it is unused. */
  #mirror: number | undefined;
  #slowdown = 1;
  /** How long the work before a send (status read, claim, opt-out check) took, recently. */
  readonly #recentPreSendMs: number[] = [];
  /** How late timers have been waking (moving average), to aim the last wait. */
  #timerLateMs = 0;
  readonly #recentSends: number[] = [];
  /** When the last call's request left for the gateway (undefined: not told, or not yet). */
  #lastLeftAt: number | undefined;
  /** How long after their calls recent requests left (ms). */
  readonly #recentLeaveDelays: number[] = [];

  /**
   * `random` is uniform in [0, 1) (injected so tests repeat); `lastSendAt` is when the instance last
   * called the gateway (ms, 0 when never), as the previous lease holder left it.
   */
  constructor(random: () => number, lastSendAt: number) {
    this.#random = random;
    this.#lastSendAt = lastSendAt;
  }

  /** When this instance last called the gateway (ms; 0 when never). */
  get lastSendAt(): number {
    return this.#lastSendAt;
  }

  /**
   * What the next holder of the instance should pace from (the lease carries it): the last call,
   * or, when its request left later than the least delay seen recently, that much later. The next
   * holder does not know when this request left; from here, its own request, leaving at least
   * about that least delay after its call, is an interval after this one's departure.
   */
  get handoverSendAt(): number {
    // Never before the call: the least delay is at most this request's own (nor before a call
    // held up in its synchronous part counts from, `noteCallIssued`).
    return Math.max(this.#onTimeCallAt() ?? this.#lastSendAt, this.#lastSendAt);
  }

  /**
   * When the last request would have been called had it left as soon after its call as the least
   * delay seen recently (its departure less that delay); undefined when its departure is not known.
   */
  #onTimeCallAt(): number | undefined {
    if (this.#lastLeftAt === undefined) return undefined;
    return this.#lastLeftAt - Math.min(...this.#recentLeaveDelays);
  }

  /**
   * When the next gateway call may happen: the tenant's interval (with jitter) after the last one,
   * stretched while recovering from a rate limit. Each call draws a new interval.
   *
   * And never so early that the request could reach the gateway within `min_interval_seconds` of
   * the last one: a request leaves its call a little later each time (fetch's own work, whatever
   * the event loop runs first; about 1 ms, up to a few), so calls exactly a floor apart can arrive
   * a few ms closer. When the last request's departure is known (`noteRequestLeft`), the next call
   * waits until a floor after it, less the least delay seen recently: the next request leaves at
   * least that late after its own call. Only sends at the floor wait (no jitter, or a draw at its
   * bottom), by the difference between that delay and its least.
   */
  nextSendAt(config: PacingConfig): number {
    const interval = nextIntervalMs(config, () => this.#jitterDraw()) * this.#slowdown;
    const shortest = shortestIntervalMs(config) * this.#slowdown;
    const byInterval = this.#lastSendAt + Math.max(shortest, interval - this.#lateMs());
    const onTime = this.#onTimeCallAt();
    return onTime === undefined ? byInterval : Math.max(byInterval, onTime + minIntervalMs(config));
  }

  /**
   * How late the last call was for its slot, up to `MAX_CATCH_UP_MS`: the next interval is that much
   * shorter, never below the shortest the configuration draws (`shortestIntervalMs`). Counting each
   * interval from the call alone adds every call's lateness to the pace (600/min with jitter ran
   * 1.3 % slow on a busy machine); this way the mean holds. Without jitter every interval is the
   * base, so nothing is won back there.
   */
  #lateMs(): number {
    if (this.#lastSlotAt === undefined) return 0;
    return Math.min(Math.max(0, this.#lastSendAt - this.#lastSlotAt), MAX_CATCH_UP_MS);
  }

  /**
   * When to start the work that precedes a send due at `sendAt`: as long ahead as that work took at
   * most recently, and `PRE_SEND_MARGIN_MS` more, so it does not stretch the interval. Not its
   * average: work slower than the average would make half the sends late, and the mean interval
   * with them; starting early only means the claim waits a few ms for its slot.
   */
  preSendStartAt(sendAt: number): number {
    return sendAt - Math.max(0, ...this.#recentPreSendMs) - PRE_SEND_MARGIN_MS;
  }

  /** The work before a send took `ms`. */
  notePreSendTook(ms: number): void {
    this.#recentPreSendMs.push(ms);
    if (this.#recentPreSendMs.length > RATE_WINDOW) this.#recentPreSendMs.shift();
  }

  /**
   * How long to sleep when the send is `earlyMs` away: timers wake late by a millisecond or two, so
   * aim that much early (as learnt) and one more; the caller waits out the rest on a finer clock
   * (IntervalClock.waitUntil), so a call is never early and barely late.
   */
  aimedSleepMs(earlyMs: number): number {
    return Math.max(0, Math.floor(earlyMs - this.#timerLateMs) - 1);
  }

  /** A sleep asked for `askedMs` took `tookMs`: how late timers wake, learnt for the next aim. */
  noteSlept(askedMs: number, tookMs: number): void {
    this.#timerLateMs = movingAverage(this.#timerLateMs, Math.max(0, tookMs - askedMs));
  }

  /**
   * The gateway call started at `startedAt`, for the slot `slotAt` (`nextSendAt`'s answer; without
   * it the next interval wins nothing back). The interval WhatsApp sees is between gateway calls,
   * so this is the new `lastSendAt`.
   */
  noteSendStarted(startedAt: number, slotAt?: number): void {
    this.#lastSendAt = startedAt;
    this.#lastSlotAt = slotAt;
    this.#lastLeftAt = undefined;
  }

  /**
   * The call started last had issued its request by `at` (its synchronous part done). Normally
   * that is within a millisecond of its start, and the pace keeps counting from the start (no drift);
   * a call held up longer counts from `at`, so the next one is never closer than the interval to it.
   */
  noteCallIssued(at: number): void {
    if (at - this.#lastSendAt > CALL_HOLDUP_MS) this.#lastSendAt = at;
  }

  /** The request of the call started last left for the gateway at `at` (same clock). */
  noteRequestLeft(at: number): void {
    this.#lastLeftAt = at;
    this.#recentLeaveDelays.push(Math.max(0, at - this.#lastSendAt));
    if (this.#recentLeaveDelays.length > RATE_WINDOW) this.#recentLeaveDelays.shift();
  }

  /**
   * The gateway answered at `doneAt`; `rateLimited` when WhatsApp said `rate-overlimit`, which
   * slows the pace down, back to normal over the following sends.
   */
  noteSendEnded(doneAt: number, rateLimited: boolean): void {
    this.#recentSends.push(doneAt);
    if (this.#recentSends.length > RATE_WINDOW) this.#recentSends.shift();
    this.#slowdown = rateLimited ? RATE_LIMIT_SLOWDOWN : Math.max(1, this.#slowdown * 0.8);
  }

  /** Messages per minute over the recent sends (0 until there are two). */
  measuredRate(): number {
    const sends = this.#recentSends;
    if (sends.length < 2) return 0;
    // biome-ignore lint/style/noNonNullAssertion: length checked
    const span = sends[sends.length - 1]! - sends[0]!;
    return span > 0 ? Math.round(((sends.length - 1) * 60_000 * 100) / span) / 100 : 0;
  }

  /**
   * Jitter draws in mirrored pairs (r, then 1 - r): every interval still varies, and each pair
   * averages exactly the configured interval, so the rate holds over a few sends, not only over
   * hundreds.
   */
  #jitterDraw(): number {
    if (this.#mirror !== undefined) {
      const r = this.#mirror;
      this.#mirror = undefined;
      return r;
    }
    const r = this.#random();
    this.#mirror = Math.min(1 - r, 1 - Number.EPSILON);
    return r;
  }
}
