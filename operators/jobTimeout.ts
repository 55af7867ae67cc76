import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerLike,
} from 'rxjs';
import { armTimeout } from './deadlineQueue.js';
import { assertScheduler, expectedMessage } from './validate.js';

/** RxJS hands a longer delay to setTimeout, which fires it after 1 ms instead. */
export const LONGEST_TIMER = 2 ** 31 - 1;

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
  if (error instanceof JobTimeoutError) return true;
  // `instanceof Error` is false for an error made in another realm (a vm context, an iframe);
  // the brand that Object.prototype.toString reads is not.
  if (Object.prototype.toString.call(error) !== '[object Error]') return false;
  const candidate = error as { name?: unknown; ms?: unknown };
  return candidate.name === 'JobTimeoutError' && typeof candidate.ms === 'number';
}

const TIMEOUT_EXPECTATION = `a number of ms from 1 to ${LONGEST_TIMER}, or Infinity`;

export function assertTimeout(name: string, ms: unknown): asserts ms is number {
  if (typeof ms !== 'number') throw new TypeError(expectedMessage(name, TIMEOUT_EXPECTATION, ms));
  if (!(ms === Number.POSITIVE_INFINITY || (ms >= 1 && ms <= LONGEST_TIMER))) {
    throw new RangeError(expectedMessage(name, TIMEOUT_EXPECTATION, ms));
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
      // Subscribing with the subscriber itself chains the source to it, so an unsubscribe
      // stops even a synchronous source mid-loop.
      source.subscribe(subscriber);
      if (!subscriber.closed && ms !== Number.POSITIVE_INFINITY) {
        subscriber.add(armTimeout(scheduler, ms, () => subscriber.error(new JobTimeoutError(ms))));
      }
    });
}
