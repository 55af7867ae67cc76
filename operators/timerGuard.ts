/**
 * The wake-and-check loop shared by `cron` and `every`: one timer at a time, never a sleep longer
 * than {@link MAX_SLEEP_MS}, and the clock read again on every wake, so early timers, blocked
 * event loops and suspended machines all end in at most one tick per fire time.
 */
import { Observable, type SchedulerLike, type Unsubscribable } from 'rxjs';
import { wakeAfter } from './sharedWake.js';

/**
 * The longest single sleep, in milliseconds. RxJS hands delays above 2^31-1 ms to `setTimeout`,
 * which fires them after 1 ms; a short cap also means a machine waking from suspend is noticed
 * within a minute.
 *
 * @example
 * ```ts
 * // A fire time a month away is reached by re-arming every MAX_SLEEP_MS and re-reading the clock.
 * Math.ceil((31 * 86_400_000) / MAX_SLEEP_MS); // 44640 wakes
 * ```
 */
export const MAX_SLEEP_MS = 60_000;

/**
 * One firing of a time-based source.
 *
 * @example
 * ```ts
 * every(1_000).subscribe(({ scheduledAt, firedAt, index }) => {
 *   console.log(`run #${index} for ${new Date(scheduledAt).toISOString()}, ${firedAt - scheduledAt} ms late`);
 * });
 * ```
 */
export interface Tick {
  /** Epoch milliseconds of the fire time this tick stands for. */
  readonly scheduledAt: number;
  /** Epoch milliseconds read from the scheduler when the tick was emitted; later than `scheduledAt` after a late wake. */
  readonly firedAt: number;
  /** 0-based count of ticks emitted by this subscription. */
  readonly index: number;
}

/**
 * The fire times of one subscription. Neither member may throw once the subscription has started.
 *
 * @example
 * ```ts
 * const origin = 1_000;
 * const plan: FirePlan = { first: origin, after: (time) => origin + (Math.floor((time - origin) / 10) + 1) * 10 };
 * ```
 */
export interface FirePlan {
  /** The first fire time, or `undefined` when there is none. */
  readonly first: number | undefined;
  /** The first fire time strictly after `time`, or `undefined` when the schedule has run out. */
  readonly after: (time: number) => number | undefined;
}

/**
 * Limits and clock for {@link timerGuard}.
 *
 * @example
 * ```ts
 * const limits: TimerGuardLimits = { scheduler: asyncScheduler, maxRuns: 3, endAt: Number.POSITIVE_INFINITY };
 * ```
 */
export interface TimerGuardLimits {
  readonly scheduler: SchedulerLike;
  /** Complete after this many ticks (`Infinity` for no limit). */
  readonly maxRuns: number;
  /** Epoch milliseconds; complete when the next fire time would be later. */
  readonly endAt: number;
}

/**
 * Emits a {@link Tick} at each fire time of the plan made when a subscriber arrives. Nothing is
 * emitted synchronously on subscribe; a plan with no fire time within `endAt` completes at once.
 *
 * @example
 * ```ts
 * const everySecond = timerGuard(
 *   (now) => ({ first: now + 1_000, after: (time) => time + 1_000 }),
 *   { scheduler: asyncScheduler, maxRuns: 5, endAt: Number.POSITIVE_INFINITY },
 * );
 * ```
 */
export function timerGuard(
  plan: (now: number) => FirePlan,
  { scheduler, maxRuns, endAt }: TimerGuardLimits,
): Observable<Tick> {
  return new Observable<Tick>((subscriber) => {
    const subscribedAt = scheduler.now();
    const { first, after } = plan(subscribedAt);
    if (first === undefined || first > endAt) {
      subscriber.complete();
      return;
    }
    let target = first;
    let index = 0;
    let timer: Unsubscribable | undefined;

    // A fresh action per sleep rather than `this.schedule`: virtual-time actions re-scheduled from
    // inside themselves nest as children, and a month of capped sleeps would nest 44640 deep.
    function arm(now: number): void {
      // Timers have millisecond resolution; rounding up keeps an early wake from re-arming with 0.
      const delay = Math.min(Math.max(Math.ceil(target - now), 0), MAX_SLEEP_MS);
      timer = wakeAfter(scheduler, delay, wake, now);
    }

    function wake(): void {
      const now = scheduler.now();
      if (now < target) {
        arm(now);
        return;
      }
      // However late the wake, one tick stands for every fire time missed since `target`.
      subscriber.next({ scheduledAt: target, firedAt: now, index });
      index += 1;
      // The handler may have unsubscribed; arming now would leak a timer past teardown.
      if (subscriber.closed) return;
      if (index >= maxRuns) {
        subscriber.complete();
        return;
      }
      // Stepping from `target` first keeps a repeated DST hour from yielding the same wall time twice.
      let next = after(target);
      if (next !== undefined && next <= now) next = after(now);
      if (next === undefined || next > endAt) {
        subscriber.complete();
        return;
      }
      target = next;
      arm(now);
    }

    arm(subscribedAt);
    return () => timer?.unsubscribe();
  });
}
