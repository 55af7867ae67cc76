import { LONGEST_TIMER } from '../operators/jobTimeout.js';
import { assertOptions, expectedMessage } from '../operators/validate.js';
import type { StopOptions } from './types.js';

const STOP_OPTIONS: ReadonlySet<string> = new Set<keyof StopOptions>(['drain', 'timeout']);

/**
 * `stop()`'s options, checked, with their defaults; `timeout` defaults to the config's
 * `jobTimeout`. Throws a TypeError or RangeError naming the bad field.
 */
export function resolveStopOptions(
  options: StopOptions,
  jobTimeout: number,
): { readonly drain: boolean; readonly timeout: number } {
  assertOptions(options, STOP_OPTIONS);
  const { drain = false, timeout = jobTimeout } = options;
  if (typeof drain !== 'boolean') throw new TypeError(expectedMessage('drain', 'a boolean', drain));
  // A longer sleep is handed to setTimeout, which fires it after 1 ms: no grace at all.
  if (
    typeof timeout !== 'number' ||
    !(timeout === Number.POSITIVE_INFINITY || (timeout >= 0 && timeout <= LONGEST_TIMER))
  ) {
    const ErrorClass = typeof timeout === 'number' ? RangeError : TypeError;
    throw new ErrorClass(
      expectedMessage('timeout', `a number of ms from 0 to ${LONGEST_TIMER}, or Infinity`, timeout),
    );
  }
  return { drain, timeout };
}
