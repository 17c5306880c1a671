import { describe, expect, it } from 'vitest';
import { Pacer } from '../../lib/domain/pacer.ts';
import { seededRandom } from '../../lib/domain/seeded-random.ts';

/** 20 messages a minute (3 s apart) with 1 s of jitter either way. */
const CONFIG = { messagesPerMinute: 20, minIntervalSeconds: 0, jitterSeconds: 1 };
const NO_JITTER = { ...CONFIG, jitterSeconds: 0 };

/** Sends `count` messages exactly on their slots; returns the intervals the pacer asked for. */
const sendOnSlots = (pacer: Pacer, count: number, config = CONFIG): number[] =>
  Array.from({ length: count }, () => {
    const last = pacer.lastSendAt;
    const at = pacer.nextSendAt(config);
    pacer.noteSendStarted(at);
    pacer.noteSendEnded(at + 100, false);
    return at - last;
  });

describe('Pacer', () => {
  it('paces from the last send the instance lease remembered', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 1_000_000);

    // Act
    const sendAt = pacer.nextSendAt(CONFIG);

    // Assess
    expect(sendAt).toBe(1_003_000);
  });

  it('counts a call held up in its synchronous part from when it was issued, and a quick one from its start', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);

    // Act: one call issued within a millisecond of its start, then one held up 4 ms.
    pacer.noteSendStarted(10_000);
    pacer.noteCallIssued(10_000.6);
    const afterQuick = pacer.nextSendAt(NO_JITTER);
    pacer.noteSendStarted(13_000);
    pacer.noteCallIssued(13_004);
    const afterHeldUp = pacer.nextSendAt(NO_JITTER);

    // Assess: no drift from quick calls; never an interval short of a held-up one, nor handed over before it.
    expect([afterQuick, afterHeldUp, pacer.handoverSendAt]).toEqual([13_000, 16_004, 13_004]);
  });

  it('wins back a late call on the next interval, so calls a few ms late each keep the slots of calls on time', () => {
    // Prepare: two pacers drawing the same jitter; one's calls start on their slots, the other's
    // 2 ms after them (a busy event loop, a slower claim)
    const onTime = new Pacer(seededRandom(7), 0);
    const late = new Pacer(seededRandom(7), 0);
    const slotsOnTime: number[] = [];
    const slotsLate: number[] = [];

    // Act
    for (let i = 0; i < 20; i++) {
      const slot = onTime.nextSendAt(CONFIG);
      slotsOnTime.push(slot);
      onTime.noteSendStarted(slot, slot);
      const lateSlot = late.nextSendAt(CONFIG);
      slotsLate.push(lateSlot);
      late.noteSendStarted(lateSlot + 2, lateSlot);
    }

    // Assess: the same slots, where counting from the calls alone would put the 20th 38 ms later
    expect(slotsLate).toEqual(slotsOnTime);
  });

  it('wins back nothing without jitter, nothing below the shortest interval the jitter draws, and at most 50 ms', () => {
    // Prepare: three pacers whose last call came late for its slot at 3 000
    const noJitter = new Pacer(() => 0.5, 0);
    noJitter.noteSendStarted(3_030, 3_000);
    const atBottomDraw = new Pacer(() => 0, 0);
    atBottomDraw.noteSendStarted(3_030, 3_000);
    const veryLate = new Pacer(() => 0.5, 0);
    veryLate.noteSendStarted(3_500, 3_000);

    // Act
    const slots = [
      noJitter.nextSendAt(NO_JITTER),
      atBottomDraw.nextSendAt(CONFIG),
      veryLate.nextSendAt(CONFIG),
    ];

    // Assess: the base after the call; the 2 s drawn (base less the whole jitter); 3 s less 50 ms
    expect(slots).toEqual([6_030, 5_030, 6_450]);
  });

  it('draws jitter in mirrored pairs, so every two intervals average exactly the configured one', () => {
    // Prepare
    const pacer = new Pacer(seededRandom(7), 0);

    // Act
    const intervals = sendOnSlots(pacer, 10);

    // Assess
    expect(new Set(intervals).size).toBeGreaterThan(2);
    for (let i = 0; i < intervals.length; i += 2) {
      expect(((intervals[i] as number) + (intervals[i + 1] as number)) / 2).toBeCloseTo(3000, 0);
    }
  });

  it('slows down after a rate limit and eases back to the configured interval', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);
    pacer.noteSendStarted(0);
    pacer.noteSendEnded(50, true);

    // Act
    const afterLimit = pacer.nextSendAt(NO_JITTER) - pacer.lastSendAt;
    const later = sendOnSlots(pacer, 12, NO_JITTER);

    // Assess
    expect(afterLimit).toBe(12_000);
    expect(later[0]).toBe(12_000);
    expect(later[1]).toBeCloseTo(9_600, 6);
    expect(later.at(-1)).toBe(3_000);
  });

  it('starts the pre-send work as early as that work took at most recently, and a margin earlier', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);

    // Act: mostly 10 ms, once 40 ms; then 20 faster ones push the slow one out of the window
    const before = pacer.preSendStartAt(10_000);
    for (const ms of [10, 40, 10, 12]) pacer.notePreSendTook(ms);
    const afterSlow = pacer.preSendStartAt(10_000);
    for (let i = 0; i < 20; i += 1) pacer.notePreSendTook(15);
    const later = pacer.preSendStartAt(10_000);

    // Assess: each time 25 ms more, for a slower one than any of the recent
    expect(before).toBe(9_975);
    expect(afterSlow).toBe(9_935);
    expect(later).toBe(9_960);
  });

  it('aims its sleep early by how late timers have woken, and one more, never below zero', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);

    // Act: timers that wake 2 ms late
    const first = pacer.aimedSleepMs(10.7);
    for (let i = 0; i < 50; i += 1) pacer.noteSlept(100, 102);
    const learnt = pacer.aimedSleepMs(10.7);
    const tiny = pacer.aimedSleepMs(1);

    // Assess
    expect(first).toBe(9);
    expect(learnt).toBe(7);
    expect(tiny).toBe(0);
  });

  it('never learns an early wake as negative lateness, and paces from the call it was told of', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);

    // Act
    pacer.noteSlept(100, 90);
    pacer.noteSendStarted(3_500);

    // Assess
    expect(pacer.aimedSleepMs(100)).toBe(99);
    expect(pacer.lastSendAt).toBe(3_500);
  });

  it('keeps requests a floor apart where they leave: a call waits out how much later than its least the last request left', () => {
    // Prepare: 600 a minute at a 100 ms floor; the first request left 0.4 ms after its call, the
    // second 2.9 ms after (the event loop was busy)
    const atFloor = { messagesPerMinute: 600, minIntervalSeconds: 0.1, jitterSeconds: 0 };
    const pacer = new Pacer(() => 0.5, 0);
    pacer.noteSendStarted(1000);
    pacer.noteRequestLeft(1000.4);
    const second = pacer.nextSendAt(atFloor);
    pacer.noteSendStarted(second);
    pacer.noteRequestLeft(second + 2.9);

    // Act
    const third = pacer.nextSendAt(atFloor);

    // Assess: the third call comes 2.5 ms late, so that its request, leaving at least 0.4 ms after
    // it, is 100 ms after the second request at least
    expect(second).toBe(1100);
    expect(third).toBeCloseTo(1202.5, 6);
    expect(third + 0.4 - (second + 2.9)).toBeGreaterThanOrEqual(100 - 1e-9);
  });

  it('hands over the last call moved by how much later than its least its request left', () => {
    // Prepare: two requests left 0.5 ms after their calls, the last one 3 ms after
    const pacer = new Pacer(() => 0.5, 0);
    for (const [call, delay] of [
      [1000, 0.5],
      [2000, 0.5],
      [3000, 3],
    ] as const) {
      pacer.noteSendStarted(call);
      pacer.noteRequestLeft(call + delay);
    }
    const untold = new Pacer(() => 0.5, 0);
    untold.noteSendStarted(3000);

    // Act
    const handedOver = pacer.handoverSendAt;

    // Assess: the next holder paces from 3002.5, as if the last request had left on time; unchanged
    // when no departure was told
    expect(handedOver).toBeCloseTo(3002.5, 6);
    expect(pacer.lastSendAt).toBe(3000);
    expect(untold.handoverSendAt).toBe(3000);
  });

  it('leaves the interval alone when requests leave on time or the draw is above the floor, or no departure is told', () => {
    // Prepare: a 3 s interval with 1 s jitter over a 2 s floor; every request leaves 1 ms after its call
    const jittered = { messagesPerMinute: 20, minIntervalSeconds: 2, jitterSeconds: 1 };
    const pacer = new Pacer(() => 0.5, 0);
    pacer.noteSendStarted(10_000);
    pacer.noteRequestLeft(10_001);
    const untold = new Pacer(() => 0.5, 10_000);

    // Act
    const next = pacer.nextSendAt(jittered);
    const nextUntold = untold.nextSendAt(jittered);

    // Assess
    expect(next).toBe(13_000);
    expect(nextUntold).toBe(13_000);
  });

  it('measures the rate over the recent sends', () => {
    // Prepare
    const pacer = new Pacer(() => 0.5, 0);
    const none = pacer.measuredRate();
    pacer.noteSendEnded(0, false);
    const one = pacer.measuredRate();

    // Act: 30 more sends 2 s apart; only the last 20 count.
    pacer.noteSendEnded(60_000, false);
    for (let i = 1; i <= 30; i += 1) pacer.noteSendEnded(60_000 + i * 2_000, false);

    // Assess
    expect(none).toBe(0);
    expect(one).toBe(0);
    expect(pacer.measuredRate()).toBe(30);
  });
});
