import fc from 'fast-check';
import { defer, map, mergeMap, of, throwError } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, type RetryPolicy, retryBackoff } from '../../operators/index.js';
import { validateRetryPolicy } from '../../operators/retryBackoff.js';
import { marbles } from '../helpers/marbles.js';

const base: RetryPolicy = { maxAttempts: 3, initialDelay: 2, maxDelay: 100, backoffFactor: 2 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backoffDelay', () => {
  const policy = { initialDelay: 1000, maxDelay: 30_000, backoffFactor: 2 };

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [5, 16_000],
    [6, 30_000],
    [9, 30_000],
  ])('retry %i waits %i ms: initialDelay * backoffFactor ** (n - 1), capped', (n, delay) => {
    expect(backoffDelay(policy, n)).toBe(delay);
  });

  it('takes a whole retry policy, as written inline', () => {
    const delay = backoffDelay(
      { maxAttempts: 5, initialDelay: 100, maxDelay: 1000, backoffFactor: 3 },
      3,
    );
    expect(delay).toBe(900);
  });

  it('waits the same each time with backoffFactor 1', () => {
    const flat = { initialDelay: 250, maxDelay: 1000, backoffFactor: 1 };
    expect([1, 2, 10, 100].map((n) => backoffDelay(flat, n))).toEqual([250, 250, 250, 250]);
  });

  it('caps at maxDelay even when it is below initialDelay', () => {
    expect(backoffDelay({ initialDelay: 500, maxDelay: 100, backoffFactor: 3 }, 1)).toBe(100);
  });

  it('caps a delay that overflows to Infinity for a very late retry', () => {
    expect(backoffDelay(policy, 5000)).toBe(30_000);
  });

  it('stays 0 with initialDelay 0, even where backoffFactor ** (n - 1) is Infinity', () => {
    const immediate = { initialDelay: 0, maxDelay: 1000, backoffFactor: 2 };
    expect(backoffDelay(immediate, 1)).toBe(0);
    expect(backoffDelay(immediate, 2000)).toBe(0);
  });

  it('spreads the delay over [0, d] with full jitter', () => {
    const full = { ...policy, jitter: 'full' as const };
    expect(backoffDelay(full, 3, () => 0)).toBe(0);
    expect(backoffDelay(full, 3, () => 0.25)).toBe(1000);
    expect(backoffDelay(full, 3, () => 0.5)).toBe(2000);
    expect(backoffDelay(full, 9, () => 0.5)).toBe(15_000);
  });

  it('spreads the delay over [d/2, d] with equal jitter', () => {
    const equal = { ...policy, jitter: 'equal' as const };
    expect(backoffDelay(equal, 3, () => 0)).toBe(2000);
    expect(backoffDelay(equal, 3, () => 0.25)).toBe(2500);
    expect(backoffDelay(equal, 3, () => 0.5)).toBe(3000);
    expect(backoffDelay(equal, 9, () => 0.5)).toBe(22_500);
  });

  it('does not call random without jitter', () => {
    const random = vi.fn(() => 0.5);
    expect(backoffDelay({ ...policy, jitter: 'none' }, 2, random)).toBe(2000);
    expect(backoffDelay(policy, 2, random)).toBe(2000);
    expect(random).not.toHaveBeenCalled();
  });

  it('uses Math.random by default', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.75);
    expect(backoffDelay({ ...policy, jitter: 'full' }, 1)).toBe(750);
  });

  it.each([
    [Number.NaN, RangeError, 'Expected `n` to be a whole number from 1 and up, got `NaN` (number)'],
    [0, RangeError, 'Expected `n` to be a whole number from 1 and up, got `0` (number)'],
    [-1, RangeError, 'Expected `n` to be a whole number from 1 and up, got `-1` (number)'],
    [1.5, RangeError, 'Expected `n` to be a whole number from 1 and up, got `1.5` (number)'],
    [
      Number.POSITIVE_INFINITY,
      RangeError,
      'Expected `n` to be a whole number from 1 and up, got `Infinity` (number)',
    ],
    ['2', TypeError, "Expected `n` to be a whole number from 1 and up, got `'2'` (string)"],
  ])('rejects retry number %o', (n, ErrorClass, message) => {
    expect(() => backoffDelay(policy, n as number)).toThrow(new ErrorClass(message));
    expect(() => backoffDelay(policy, n as number)).toThrow(ErrorClass);
  });

  it('rejects a random that is not a function', () => {
    expect(() => backoffDelay({ ...policy, jitter: 'full' }, 1, 0.5 as never)).toThrow(
      new TypeError('Expected `random` to be a function, got `0.5` (number)'),
    );
  });

  it.each([
    [
      'initialDelay is negative',
      { ...policy, initialDelay: -1000 },
      RangeError,
      'Expected `policy.initialDelay` to be a finite number from 0 and up, got `-1000` (number)',
    ],
    [
      'maxDelay is NaN',
      { ...policy, maxDelay: Number.NaN },
      RangeError,
      'Expected `policy.maxDelay` to be a finite number from 0 and up, got `NaN` (number)',
    ],
    [
      'backoffFactor is below 1',
      { ...policy, backoffFactor: 0.5 },
      RangeError,
      'Expected `policy.backoffFactor` to be a finite number from 1 and up, got `0.5` (number)',
    ],
    [
      'backoffFactor is missing',
      { initialDelay: 1000, maxDelay: 30_000 },
      TypeError,
      'Expected `policy.backoffFactor` to be a finite number from 1 and up, got `undefined` (undefined)',
    ],
    [
      'jitter is an unknown string',
      { ...policy, jitter: 'half' },
      RangeError,
      "Expected `policy.jitter` to be one of 'none', 'full', 'equal', got `'half'` (string)",
    ],
    ['policy is null', null, TypeError, 'Expected `policy` to be an object, got `null` (null)'],
    [
      'maxAttempts is 0',
      { ...policy, maxAttempts: 0 },
      RangeError,
      'Expected `policy.maxAttempts` to be a whole number from 1 and up (or Infinity), got `0` (number)',
    ],
    [
      'retryIf is not a function',
      { ...policy, retryIf: 'yes' },
      TypeError,
      "Expected `policy.retryIf` to be a function, got `'yes'` (string)",
    ],
    [
      'resetOnSuccess is not a boolean',
      { ...policy, resetOnSuccess: 'yes' },
      TypeError,
      "Expected `policy.resetOnSuccess` to be a boolean, got `'yes'` (string)",
    ],
    [
      'a field is misspelt',
      { ...policy, jiter: 'full' },
      TypeError,
      /`policy.jiter` to be left out/,
    ],
  ])(
    'rejects a policy when %s, with the message retryBackoff gives',
    (_, bad, ErrorClass, message) => {
      expect(() => backoffDelay(bad as never, 2)).toThrow(
        typeof message === 'string' ? new ErrorClass(message) : message,
      );
      expect(() => backoffDelay(bad as never, 2)).toThrow(ErrorClass);
      const full = bad === null ? null : { maxAttempts: 3, ...bad };
      expect(() => retryBackoff(full as never)).toThrow(message);
    },
  );

  it('stays within [0, maxDelay] and never shrinks as n grows, without jitter', () => {
    fc.assert(
      fc.property(
        fc.record({
          initialDelay: fc.integer({ min: 0, max: 10_000 }),
          maxDelay: fc.integer({ min: 0, max: 100_000 }),
          backoffFactor: fc.double({ min: 1, max: 10, noNaN: true }),
        }),
        fc.integer({ min: 1, max: 3000 }),
        (p, n) => {
          const delay = backoffDelay(p, n);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(p.maxDelay);
          expect(backoffDelay(p, n + 1)).toBeGreaterThanOrEqual(delay);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('validateRetryPolicy', () => {
  const cases: [string, unknown, ErrorConstructor, string][] = [
    ['policy is null', null, TypeError, 'Expected `policy` to be an object, got `null` (null)'],
    [
      'maxAttempts is 0',
      { ...base, maxAttempts: 0 },
      RangeError,
      'Expected `policy.maxAttempts` to be a whole number from 1 and up (or Infinity), got `0` (number)',
    ],
    [
      'maxAttempts is fractional',
      { ...base, maxAttempts: 2.5 },
      RangeError,
      'Expected `policy.maxAttempts` to be a whole number from 1 and up (or Infinity), got `2.5` (number)',
    ],
    [
      'initialDelay is negative',
      { ...base, initialDelay: -1 },
      RangeError,
      'Expected `policy.initialDelay` to be a finite number from 0 and up, got `-1` (number)',
    ],
    [
      'initialDelay is a string',
      { ...base, initialDelay: '10' },
      TypeError,
      "Expected `policy.initialDelay` to be a finite number from 0 and up, got `'10'` (string)",
    ],
    [
      'maxDelay is Infinity',
      { ...base, maxDelay: Infinity },
      RangeError,
      'Expected `policy.maxDelay` to be a finite number from 0 and up, got `Infinity` (number)',
    ],
    [
      'backoffFactor is below 1',
      { ...base, backoffFactor: 0.5 },
      RangeError,
      'Expected `policy.backoffFactor` to be a finite number from 1 and up, got `0.5` (number)',
    ],
    [
      'jitter is an unknown string',
      { ...base, jitter: 'half' },
      RangeError,
      "Expected `policy.jitter` to be one of 'none', 'full', 'equal', got `'half'` (string)",
    ],
    [
      'jitter is not a string',
      { ...base, jitter: true },
      TypeError,
      "Expected `policy.jitter` to be one of 'none', 'full', 'equal', got `true` (boolean)",
    ],
    [
      'retryIf is not a function',
      { ...base, retryIf: 'always' },
      TypeError,
      "Expected `policy.retryIf` to be a function, got `'always'` (string)",
    ],
    [
      'resetOnSuccess is not a boolean',
      { ...base, resetOnSuccess: 1 },
      TypeError,
      'Expected `policy.resetOnSuccess` to be a boolean, got `1` (number)',
    ],
  ];

  it.each(cases)('throws when %s', (_, policy, ErrorClass, message) => {
    expect(() => validateRetryPolicy(policy as RetryPolicy)).toThrow(ErrorClass);
    expect(() => validateRetryPolicy(policy as RetryPolicy)).toThrow(message);
    // retryBackoff validates the same way, when it is created.
    expect(() => retryBackoff(policy as RetryPolicy)).toThrow(message);
  });

  it('names the fields after the given name', () => {
    expect(() => validateRetryPolicy({ ...base, maxDelay: -5 }, 'job.retry')).toThrow(
      'Expected `job.retry.maxDelay` to be a finite number from 0 and up, got `-5` (number)',
    );
  });

  it('refuses a misspelt field rather than ignore it for its default', () => {
    const misspelt = { ...base, jiter: 'full' } as RetryPolicy;
    expect(() => validateRetryPolicy(misspelt)).toThrow(TypeError);
    expect(() => validateRetryPolicy(misspelt)).toThrow(
      /`policy.jiter` to be left out: the fields are maxAttempts, .*jitter.*`'full'` \(string\)/,
    );
    expect(() => retryBackoff(misspelt)).toThrow(/`policy.jiter`/);
  });

  it('returns the policy it was given', () => {
    const policy: RetryPolicy = {
      ...base,
      maxAttempts: Infinity,
      jitter: 'equal',
      retryIf: () => true,
      resetOnSuccess: true,
    };
    expect(validateRetryPolicy(policy)).toBe(policy);
  });

  it('rejects a scheduler that is not a SchedulerLike', () => {
    expect(() => retryBackoff(base, { now: () => 0 } as never)).toThrow(
      new TypeError('Expected `scheduler` to be an RxJS SchedulerLike, got `{}` (object)'),
    );
  });
});

describe('retryBackoff', () => {
  it(
    'resubscribes after initialDelay, then backoffFactor times longer, up to maxAttempts',
    marbles((m) => {
      const source = m.cold('--1-2-#                  ');
      //                     --1-2-#                    attempt 1
      //                           --                   waits 2 ms
      //                             --1-2-#            attempt 2
      //                                   ----         waits 4 ms
      //                                       --1-2-#  attempt 3 is the last
      const subs = [
        '                    ^-----!                  ',
        '                    --------^-----!          ',
        '                    ------------------^-----!',
      ];
      const expected = '     --1-2-----1-2-------1-2-#';

      const result = source.pipe(retryBackoff(base, m.scheduler));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'never waits longer than maxDelay',
    marbles((m) => {
      const policy = { maxAttempts: 4, initialDelay: 2, maxDelay: 5, backoffFactor: 3 };
      const source = m.cold('-#                ');
      //                     -#                  attempt 1, then 2 ms
      //                        -#               attempt 2, then 6 ms capped to 5
      //                              -#         attempt 3, then 18 ms capped to 5
      //                                    -#   attempt 4 is the last
      const subs = [
        '                    ^!                ',
        '                    ---^!             ',
        '                    ---------^!       ',
        '                    ---------------^! ',
      ];
      const expected = '     ----------------#';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'does not retry with maxAttempts 1',
    marbles((m) => {
      const source = m.cold('--1-#');
      const subs = '         ^---!';
      const expected = '     --1-#';

      const result = source.pipe(retryBackoff({ ...base, maxAttempts: 1 }));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'retries for ever with maxAttempts Infinity, until unsubscribed',
    marbles((m) => {
      const policy = { maxAttempts: Infinity, initialDelay: 1, maxDelay: 1, backoffFactor: 1 };
      const source = m.cold('-1#        ');
      const subs = [
        '                    ^-!        ',
        '                    ---^-!     ',
        '                    ------^-!  ',
        '                    ---------^-!',
      ];
      const unsub = '        -----------!';
      const expected = '     -1--1--1--1-';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'completes, without retrying, when the source completes',
    marbles((m) => {
      const source = m.cold('--1--|');
      const subs = '         ^----!';
      const expected = '     --1--|';

      const result = source.pipe(retryBackoff(base));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'passes an error through at once, without waiting, when retryIf declines it',
    marbles((m) => {
      const transientError = new Error('transient');
      const fatalError = new Error('fatal');
      const transient = m.cold('-#     ', undefined, transientError);
      const fatal = m.cold('       --#', undefined, fatalError);
      //                         -#       attempt 1 fails with a transient error: wait 3 ms
      //                             --#  attempt 2 fails fatally: passed through at once
      const transientSubs = '   ^!     ';
      const fatalSubs = '       ----^-!';
      const expected = '        ------#';
      const retryIf = vi.fn((error: unknown) => error === transientError);
      let attempt = 0;
      const source = defer(() => (attempt++ === 0 ? transient : fatal));

      const result = source.pipe(
        retryBackoff({ ...base, maxAttempts: 5, initialDelay: 3, retryIf }),
      );

      m.expect(result).toBeObservable(expected, undefined, fatalError);
      m.expect(transient).toHaveSubscriptions(transientSubs);
      m.expect(fatal).toHaveSubscriptions(fatalSubs);
      m.flush();
      // `attempt` is the number of the attempt that failed.
      expect(retryIf.mock.calls).toEqual([
        [transientError, 1],
        [fatalError, 2],
      ]);
    }),
  );

  it(
    'errors when retryIf throws',
    marbles((m) => {
      const thrown = new Error('retryIf broke');
      const source = m.cold('-#');
      const subs = '         ^!';
      const expected = '     -#';

      const result = source.pipe(
        retryBackoff({
          ...base,
          retryIf: () => {
            throw thrown;
          },
        }),
      );

      m.expect(result).toBeObservable(expected, undefined, thrown);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'gives up after maxAttempts when attempts keep emitting, without resetOnSuccess',
    marbles((m) => {
      const policy = { maxAttempts: 2, initialDelay: 2, maxDelay: 100, backoffFactor: 10 };
      const source = m.cold('-1#    ');
      const subs = [
        '                    ^-!                     ',
        '                    ----^-!                 ',
      ];
      const expected = '     -1---1#';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'counts attempts from 1 again after a value with resetOnSuccess: same delay, no limit',
    marbles((m) => {
      const policy = {
        maxAttempts: 2,
        initialDelay: 2,
        maxDelay: 100,
        backoffFactor: 10,
        resetOnSuccess: true,
      };
      const source = m.cold('-1#            ');
      //                     -1#              each attempt emits, so each retry is retry 1:
      //                         -1#          2 ms, not 20, and maxAttempts never runs out
      //                             -1#
      //                                 -1#
      const subs = [
        '                    ^-!           ',
        '                    ----^-!       ',
        '                    --------^-!   ',
        '                    ------------^-!',
      ];
      const unsub = '        --------------!';
      const expected = '     -1---1---1---1-';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'with resetOnSuccess, still backs off and gives up while attempts emit nothing',
    marbles((m) => {
      const first = m.cold('-1#           ');
      const rest = m.cold('            -#  ');
      //                    -1#             attempt 1 emits, so counting starts again from it
      //                        -#          retry 1 after 2 ms
      //                             -#     retry 2 after 4 ms: 3 attempts, give up
      const firstSubs = '   ^-!           ';
      const restSubs = [
        '                   ----^!                   ',
        '                   ---------^!              ',
      ];
      const expected = '    -1--------#   ';
      let attempt = 0;
      const source = defer(() => (attempt++ === 0 ? first : rest));

      const result = source.pipe(retryBackoff({ ...base, maxAttempts: 3, resetOnSuccess: true }));

      m.expect(result).toBeObservable(expected);
      m.expect(first).toHaveSubscriptions(firstSubs);
      m.expect(rest).toHaveSubscriptions(restSubs);
    }),
  );

  it(
    'waits random() * d with full jitter',
    marbles((m) => {
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const policy: RetryPolicy = { ...base, initialDelay: 4, jitter: 'full' };
      const source = m.cold('-#          ');
      //                     -#            then 0.5 * 4 = 2 ms
      //                        -#         then 0.5 * 8 = 4 ms
      //                             -#
      const subs = [
        '                    ^!',
        '                    ---^!',
        '                    --------^!',
      ];
      const expected = '     ---------#';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'waits d/2 + random() * d/2 with equal jitter',
    marbles((m) => {
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const policy: RetryPolicy = { ...base, initialDelay: 4, jitter: 'equal' };
      const source = m.cold('-#            ');
      //                     -#              then 2 + 0.5 * 2 = 3 ms
      //                         -#          then 4 + 0.5 * 4 = 6 ms
      //                                -#
      const subs = [
        '                    ^!            ',
        '                    ----^!        ',
        '                    -----------^! ',
      ];
      const expected = '     ------------#';

      const result = source.pipe(retryBackoff(policy));

      m.expect(result).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'cancels the pending retry when unsubscribed during the delay',
    marbles((m) => {
      const source = m.cold('--#       ');
      //                     --#-----    retry due at 7 never happens
      const subs = '         ^-!       ';
      const unsub = '        ----!     ';
      const expected = '     ----      ';

      const result = source.pipe(retryBackoff({ ...base, initialDelay: 5 }));

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'unsubscribes the running attempt when unsubscribed explicitly',
    marbles((m) => {
      const source = m.cold('--1--#    ');
      const subs = [
        '                    ^----!                  ',
        '                    ------^--!              ',
      ];
      const unsub = '        ---------!';
      const expected = '     --1-----1';

      const result = source.pipe(retryBackoff({ ...base, initialDelay: 1 }));

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'does not break the unsubscription chain when unsubscribed explicitly',
    marbles((m) => {
      const source = m.cold('--1-2-#            ');
      const subs = [
        '                    ^-----!                 ',
        '                    --------^----!          ',
      ];
      const unsub = '        -------------!     ';
      const expected = '     --1-2-----1-2      ';

      const result = source.pipe(
        mergeMap((value) => of(value)),
        retryBackoff(base),
        mergeMap((value) => of(value)),
      );

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'retries a synchronously failing source 10 000 times without growing the stack',
    marbles((m) => {
      let attempts = 0;
      const error = new Error('not yet');
      const source = defer(() =>
        ++attempts < 10_000 ? throwError(() => error) : of(attempts).pipe(map(String)),
      );
      const policy = { maxAttempts: Infinity, initialDelay: 0, maxDelay: 0, backoffFactor: 2 };

      m.expect(source.pipe(retryBackoff(policy))).toBeObservable('(v|)', { v: '10000' });
      m.flush();
      expect(attempts).toBe(10_000);
    }),
  );

  it('waits out a delay longer than a timer can hold, where RxJS would fire it after 1 ms', async () => {
    // Vitest's fake timers fire a delay past 2^31 - 1 ms after 1 ms, as Node does.
    vi.useFakeTimers();
    try {
      const day = 86_400_000;
      let subscriptions = 0;
      const source = defer(() => {
        subscriptions += 1;
        return throwError(() => new Error('down'));
      });
      const policy = {
        maxAttempts: 2,
        initialDelay: 30 * day,
        maxDelay: 30 * day,
        backoffFactor: 2,
      };
      const errors: unknown[] = [];
      const subscription = source
        .pipe(retryBackoff(policy))
        .subscribe({ error: (error) => errors.push(error) });
      await vi.advanceTimersByTimeAsync(29 * day);
      expect(subscriptions).toBe(1);
      await vi.advanceTimersByTimeAsync(day);
      expect(subscriptions).toBe(2);
      expect(errors).toHaveLength(1);
      subscription.unsubscribe();
    } finally {
      vi.useRealTimers();
    }
  });
});
