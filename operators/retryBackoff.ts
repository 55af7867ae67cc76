import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  retry,
  type SchedulerLike,
  timer,
} from 'rxjs';
import { at } from './at.js';
import { LONGEST_TIMER } from './jobTimeout.js';
import {
  assertFiniteAtLeast,
  assertFunction,
  assertInteger,
  assertKnownFields,
  assertObject,
  assertOneOf,
  assertScheduler,
  expectedMessage,
} from './validate.js';

/** How random noise spreads retries: none, anywhere in [0, d] (`full`), or in [d/2, d] (`equal`). */
export type BackoffJitter = 'none' | 'full' | 'equal';

export interface RetryPolicy {
  /** Total attempts, the first included: 1 means no retry. `Infinity` retries for ever. */
  readonly maxAttempts: number;
  /** Delay before the first retry, in ms. */
  readonly initialDelay: number;
  /** No delay is longer than this, in ms. */
  readonly maxDelay: number;
  /** Each retry waits this many times longer than the one before: 1 or more. */
  readonly backoffFactor: number;
  readonly jitter?: BackoffJitter;
  /** Retry only errors this accepts; `attempt` is the number of the attempt that failed. */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /** Count attempts from 1 again after the source emits a value. */
  readonly resetOnSuccess?: boolean;
}

const JITTERS: readonly BackoffJitter[] = ['none', 'full', 'equal'];

const POLICY_FIELDS: ReadonlySet<keyof RetryPolicy> = new Set([
  'maxAttempts',
  'initialDelay',
  'maxDelay',
  'backoffFactor',
  'jitter',
  'retryIf',
  'resetOnSuccess',
] as const);

/** What `backoffDelay` reads; the rest of a {@link RetryPolicy} may come along. */
type BackoffFields = Pick<RetryPolicy, 'initialDelay' | 'maxDelay' | 'backoffFactor' | 'jitter'> &
  Partial<RetryPolicy>;

/** Shared by validateRetryPolicy and backoffDelay, so a delay is judged the same by both. */
function assertBackoffFields(name: string, policy: BackoffFields): void {
  assertFiniteAtLeast(`${name}.initialDelay`, policy.initialDelay, 0);
  assertFiniteAtLeast(`${name}.maxDelay`, policy.maxDelay, 0);
  assertFiniteAtLeast(`${name}.backoffFactor`, policy.backoffFactor, 1);
  if (policy.jitter !== undefined) assertOneOf(`${name}.jitter`, policy.jitter, JITTERS);
}

/** Throws a TypeError or RangeError naming the first bad field; returns the policy unchanged. */
export function validateRetryPolicy(policy: RetryPolicy, name = 'policy'): RetryPolicy {
  assertObject(name, policy);
  assertKnownFields(policy, POLICY_FIELDS, (key) => `${name}.${key}`);
  assertInteger(`${name}.maxAttempts`, policy.maxAttempts, 1, true);
  assertBackoffFields(name, policy);
  assertRetryFields(name, policy);
  return policy;
}

/** The fields beside the backoff's, where given: backoffDelay takes a whole policy too. */
function assertRetryFields(name: string, policy: Partial<RetryPolicy>): void {
  if (policy.retryIf !== undefined) assertFunction(`${name}.retryIf`, policy.retryIf);
  if (policy.resetOnSuccess !== undefined && typeof policy.resetOnSuccess !== 'boolean') {
    throw new TypeError(
      expectedMessage(`${name}.resetOnSuccess`, 'a boolean', policy.resetOnSuccess),
    );
  }
}

/**
 * The wait before retry `n` (1 for the first retry): `min(maxDelay, initialDelay *
 * backoffFactor ** (n - 1))`, then spread by `jitter`. Pure apart from `random`, which tests
 * may fix.
 *
 * @throws {TypeError | RangeError} when `n` is not a whole number from 1 and up, `random` is not a
 * function, or a policy field is invalid as {@link retryBackoff} would judge it.
 * @example
 * ```ts
 * const policy = { maxAttempts: 5, initialDelay: 1000, maxDelay: 30_000, backoffFactor: 2 };
 * backoffDelay(policy, 1); // 1000
 * backoffDelay(policy, 3); // 4000
 * backoffDelay(policy, 9); // 30000
 * ```
 */
export function backoffDelay(
  policy: BackoffFields,
  n: number,
  random: () => number = Math.random,
): number {
  assertObject('policy', policy);
  // A whole RetryPolicy is welcome; a misspelt field (`jiter`) would pass for one left out.
  assertKnownFields(policy, POLICY_FIELDS, (key) => `policy.${key}`);
  assertBackoffFields('policy', policy);
  if (policy.maxAttempts !== undefined) {
    assertInteger('policy.maxAttempts', policy.maxAttempts, 1, true);
  }
  assertRetryFields('policy', policy);
  assertInteger('n', n, 1);
  assertFunction('random', random);
  return delayFor(policy, n, random);
}

/** backoffDelay without the checks, for retryBackoff, which checked the policy when it was made. */
function delayFor(policy: BackoffFields, n: number, random: () => number): number {
  // backoffFactor ** (n - 1) reaches Infinity on a late retry, and 0 * Infinity is NaN.
  const grown =
    policy.initialDelay === 0 ? 0 : policy.initialDelay * policy.backoffFactor ** (n - 1);
  const delay = Math.min(policy.maxDelay, grown);
  switch (policy.jitter) {
    case 'full':
      return random() * delay;
    case 'equal':
      return delay / 2 + (random() * delay) / 2;
    default:
      return delay;
  }
}

/**
 * On error, resubscribes to the source after `backoffDelay(policy, n)` for retry n = 1, 2, …,
 * until `maxAttempts` attempts have failed or `retryIf` declines; then the last error goes
 * downstream. Built on RxJS's `retry({ count, delay })`, with the delay on `scheduler`.
 *
 * @example
 * ```ts
 * import { retryBackoff } from 'rxjobs/operators';
 *
 * fetchReport$.pipe(
 *   retryBackoff({ maxAttempts: 5, initialDelay: 1000, maxDelay: 30_000, backoffFactor: 2, jitter: 'full' }),
 * );
 * ```
 */
export function retryBackoff<T>(
  policy: RetryPolicy,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  validateRetryPolicy(policy);
  assertScheduler('scheduler', scheduler);
  const { retryIf } = policy;
  return retry<T>({
    count: policy.maxAttempts - 1,
    resetOnSuccess: policy.resetOnSuccess ?? false,
    delay: (error: unknown, retryCount: number) => {
      if (retryIf !== undefined && !retryIf(error, retryCount)) throw error;
      const delay = delayFor(policy, retryCount, Math.random);
      // RxJS hands a delay past the longest timer to setTimeout, which fires it after 1 ms; `at`
      // gets there in capped sleeps, re-reading the clock.
      return delay > LONGEST_TIMER
        ? at(scheduler.now() + delay, scheduler)
        : timer(delay, scheduler);
    },
  });
}
