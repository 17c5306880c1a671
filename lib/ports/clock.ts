/** The current time. Tests drive it; the domain never reads a clock on its own. */
export interface Clock {
  /** Now, as a Date. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
