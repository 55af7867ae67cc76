/**
 * `every`: ticks on a fixed grid of `ms`, timed only by an RxJS scheduler, with the same wake guards
 * as `cron`.
 */
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { type Tick, timerGuard } from './timerGuard.js';
import {
  assertFiniteAtLeast,
  assertInteger,
  assertOptions,
  assertScheduler,
  toEpochMs,
} from './validate.js';

/**
 * Options for {@link every}.
 *
 * @example
 * ```ts
 * const options: EveryOptions = { startAt: Date.UTC(2026, 0, 1), maxRuns: 3 };
 * ```
 */
export interface EveryOptions {
  /** Date or epoch milliseconds of the first tick; a time already past means the first tick comes at once. */
  readonly startAt?: Date | number | undefined;
  /** Completes after this many ticks: a whole number from 1 and up. Defaults to `Infinity`. */
  readonly maxRuns?: number | undefined;
  /** The only clock and timer used. Defaults to `asyncScheduler`. */
  readonly scheduler?: SchedulerLike | undefined;
}

const EVERY_OPTIONS: ReadonlySet<string> = new Set<keyof EveryOptions>([
  'startAt',
  'maxRuns',
  'scheduler',
]);

/**
 * Emits a {@link Tick} every `ms` milliseconds. Arguments are checked when `every` is called.
 *
 * The first tick comes `ms` after subscription, like `interval`, or at `startAt` when given; a
 * `startAt` already past fires at once (on the scheduler, never synchronously on subscribe) and
 * the grid starts from then. A late wake emits one tick for the first missed grid point, then
 * resumes at the first grid point after now: the grid never shifts, and no point fires twice.
 *
 * @throws {TypeError | RangeError} when `ms` is not a finite number from 1 and up, or an option is invalid.
 * @example
 * ```ts
 * // Three ticks, one second apart, the first one second after subscribing.
 * every(1_000, { maxRuns: 3 }).subscribe(({ index }) => console.log(index));
 * ```
 */
export function every(ms: number, options: EveryOptions = {}): Observable<Tick> {
  assertFiniteAtLeast('ms', ms, 1);
  assertOptions(options, EVERY_OPTIONS);
  // Defaults in the pattern, not spread under the options: an option set to undefined is absent.
  const { startAt, maxRuns = Number.POSITIVE_INFINITY, scheduler = asyncScheduler } = options;
  assertInteger('maxRuns', maxRuns, 1, true);
  assertScheduler('scheduler', scheduler);
  const startMs = startAt === undefined ? undefined : toEpochMs('startAt', startAt);

  return timerGuard(
    (now) => {
      const origin = startMs === undefined ? now + ms : Math.max(startMs, now);
      return { first: origin, after: gridAfter(origin, ms) };
    },
    { scheduler, maxRuns, endAt: Number.POSITIVE_INFINITY },
  );
}

/** The first point strictly after a time, on the grid of `ms` steps through `origin`. */
export function gridAfter(origin: number, ms: number): (time: number) => number {
  return (time) => {
    const point = origin + (Math.floor((time - origin) / ms) + 1) * ms;
    // Floating-point division can land one step short on a grid point itself.
    return point > time ? point : point + ms;
  };
}
