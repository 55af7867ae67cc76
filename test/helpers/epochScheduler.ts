import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

/**
 * How a {@link ClockScheduler} bends the scheduler it wraps.
 *
 * @example
 * ```ts
 * // Midnight 2026-01-01, then 30 s of suspend noticed from frame 2_500 on.
 * const options: ClockOptions = { offset: (frame) => Date.UTC(2026, 0, 1) + (frame >= 2_500 ? 30_000 : 0) };
 * ```
 */
export interface ClockOptions {
  /** Added to the wrapped clock at `frame`; a step in it is the wall clock jumping. */
  readonly offset?: (frame: number) => number;
  /** The delay actually slept for a requested one: a timer that fires early or late. */
  readonly sleep?: (delay: number) => number;
}

/**
 * A SchedulerLike over another (usually a TestScheduler) that shifts its clock and bends its
 * timers, and records every delay it was asked for.
 *
 * @example
 * ```ts
 * const scheduler = new ClockScheduler(m.scheduler, { sleep: (delay) => Math.ceil(delay * 0.9) });
 * every(100, { scheduler, maxRuns: 1 }).subscribe();
 * m.scheduler.flush();
 * scheduler.delays; // [100, 10, 1]: two early wakes re-armed
 * ```
 */
export class ClockScheduler implements SchedulerLike {
  /** Every delay requested through `schedule`, in order. */
  readonly delays: number[] = [];
  readonly #inner: SchedulerLike;
  readonly #offset: (frame: number) => number;
  readonly #sleep: (delay: number) => number;

  constructor(inner: SchedulerLike, { offset = () => 0, sleep = (delay) => delay }: ClockOptions) {
    this.#inner = inner;
    this.#offset = offset;
    this.#sleep = sleep;
  }

  now(): number {
    const frame = this.#inner.now();
    return frame + this.#offset(frame);
  }

  schedule<T>(
    work: (this: SchedulerAction<T>, state?: T) => void,
    delay = 0,
    state?: T,
  ): Subscription {
    this.delays.push(delay);
    return this.#inner.schedule(work, this.#sleep(delay), state);
  }
}

/**
 * A scheduler whose clock reads `epochMs` plus the wrapped scheduler's clock, so virtual frame 0
 * of a TestScheduler is a real date while timers still run in virtual time.
 *
 * @example
 * ```ts
 * const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 2, 8, 0, 0));
 * scheduler.now(); // Date.UTC(2026, 2, 8) at frame 0
 * ```
 */
export function withEpoch(inner: SchedulerLike, epochMs: number): ClockScheduler {
  return new ClockScheduler(inner, { offset: () => epochMs });
}
