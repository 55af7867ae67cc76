import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerLike,
} from 'rxjs';
import { assertScheduler, expectedMessage } from './validate.js';

/** RxJS hands a longer delay to setTimeout, which fires it after 1 ms instead. */
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * The error `jobTimeout` raises when its source has not completed in time.
 *
 * @example
 * ```ts
 * if (isJobTimeoutError(error)) console.log(`gave up after ${error.ms} ms`);
 * ```
 */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError' as const;
  readonly ms: number;

  constructor(ms: number) {
    super(`Job timed out after ${ms} ms`);
    this.ms = ms;
  }
}

/** True for a `JobTimeoutError`, also one from another realm or copy of this package. */
export function isJobTimeoutError(error: unknown): error is JobTimeoutError {
  return error instanceof Error && error.name === 'JobTimeoutError';
}

export function assertTimeout(name: string, ms: unknown): asserts ms is number {
  const expectation = `a number of ms from 1 to ${LONGEST_TIMER}, or Infinity`;
  if (typeof ms !== 'number') throw new TypeError(expectedMessage(name, expectation, ms));
  if (!(ms === Number.POSITIVE_INFINITY || (ms >= 1 && ms <= LONGEST_TIMER))) {
    throw new RangeError(expectedMessage(name, expectation, ms));
  }
}

/**
 * Errors with `JobTimeoutError` if the source has not completed within `ms` of subscription,
 * and unsubscribes the source, so an Observable job is really cancelled. Unlike RxJS's
 * `timeout`, which watches the gap between values, this bounds the whole run. `Infinity`
 * arms no timer.
 *
 * @example
 * ```ts
 * import { jobTimeout } from 'rxjobs/operators';
 *
 * exportReport$.pipe(jobTimeout(30_000)).subscribe({ error: (e) => console.error(e.name) });
 * ```
 */
export function jobTimeout<T>(
  ms: number,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  assertTimeout('ms', ms);
  assertScheduler('scheduler', scheduler);
  return (source) =>
    new Observable<T>((subscriber) => {
      subscriber.add(
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
      if (!subscriber.closed && ms !== Number.POSITIVE_INFINITY) {
        subscriber.add(scheduler.schedule(() => subscriber.error(new JobTimeoutError(ms)), ms));
      }
    });
}
