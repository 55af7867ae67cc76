import { runInNewContext } from 'node:vm';
import {
  mergeMap,
  NEVER,
  of,
  range,
  Subject,
  TimeoutError,
  take,
  tap,
  throwError,
  timeout,
  VirtualTimeScheduler,
} from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import {
  fromHandler,
  isJobTimeoutError,
  JobTimeoutError,
  jobTimeout,
  retryBackoff,
} from '../../operators/index.js';
import { marbles } from '../helpers/marbles.js';

describe('JobTimeoutError', () => {
  it('is an Error named JobTimeoutError that carries ms', () => {
    const error = new JobTimeoutError(250);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error.name).toBe('JobTimeoutError');
    expect(error.ms).toBe(250);
    expect(error.message).toBe('Job timed out after 250 ms');
    expect(String(error)).toBe('JobTimeoutError: Job timed out after 250 ms');
  });
});

describe('isJobTimeoutError', () => {
  it('is true for a JobTimeoutError', () => {
    expect(isJobTimeoutError(new JobTimeoutError(1))).toBe(true);
  });

  it('is true for a JobTimeoutError made in another realm', () => {
    const foreign: unknown = runInNewContext(`
      class JobTimeoutError extends Error {
        name = 'JobTimeoutError';
        constructor(ms) { super('Job timed out after ' + ms + ' ms'); this.ms = ms; }
      }
      new JobTimeoutError(30);
    `);
    expect(foreign instanceof Error).toBe(false);
    expect(isJobTimeoutError(foreign)).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('Job timed out after 5 ms')],
    ["RxJS's TimeoutError", new TimeoutError()],
    ['an object that only looks like one', { name: 'JobTimeoutError', message: 'x', ms: 5 }],
    [
      'an Error named JobTimeoutError without ms',
      Object.assign(new Error('x'), { name: 'JobTimeoutError' }),
    ],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'JobTimeoutError'],
  ])('is false for %s', (_, value) => {
    expect(isJobTimeoutError(value)).toBe(false);
  });
});

describe('jobTimeout', () => {
  describe('validation, at creation', () => {
    const expectation = 'a number of ms from 1 to 2147483647, or Infinity';
    it.each([
      [0, RangeError, `Expected \`ms\` to be ${expectation}, got \`0\` (number)`],
      [-5, RangeError, `Expected \`ms\` to be ${expectation}, got \`-5\` (number)`],
      [Number.NaN, RangeError, `Expected \`ms\` to be ${expectation}, got \`NaN\` (number)`],
      [
        Number.NEGATIVE_INFINITY,
        RangeError,
        `Expected \`ms\` to be ${expectation}, got \`-Infinity\` (number)`,
      ],
      // setTimeout would fire a longer delay after 1 ms.
      [2 ** 31, RangeError, `Expected \`ms\` to be ${expectation}, got \`2147483648\` (number)`],
      ['100', TypeError, `Expected \`ms\` to be ${expectation}, got \`'100'\` (string)`],
      [undefined, TypeError, `Expected \`ms\` to be ${expectation}, got \`undefined\` (undefined)`],
    ])('rejects %s', (ms, ErrorClass, message) => {
      expect(() => jobTimeout(ms as number)).toThrow(ErrorClass);
      expect(() => jobTimeout(ms as number)).toThrow(message);
    });

    it('accepts 1, the longest timer and Infinity', () => {
      expect(() => jobTimeout(1)).not.toThrow();
      expect(() => jobTimeout(2 ** 31 - 1)).not.toThrow();
      expect(() => jobTimeout(Infinity)).not.toThrow();
    });

    it('rejects a scheduler that is not a SchedulerLike', () => {
      expect(() => jobTimeout(5, null as never)).toThrow(
        new TypeError('Expected `scheduler` to be an RxJS SchedulerLike, got `null` (null)'),
      );
    });
  });

  it(
    'passes values and completion through when the source completes in time',
    marbles((m) => {
      const source = m.cold('--a--|     ');
      //                     ----------#  the timer, cancelled at 5
      const subs = '         ^----!     ';
      const expected = '     --a--|     ';

      m.expect(source.pipe(jobTimeout(10))).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'errors with JobTimeoutError after ms and unsubscribes the source',
    marbles((m) => {
      const source = m.cold('--a---b--|');
      //                     -----#      the timer
      const subs = '         ^----!    ';
      const expected = '     --a--#    ';

      m.expect(source.pipe(jobTimeout(5))).toBeObservable(
        expected,
        undefined,
        new JobTimeoutError(5),
      );
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'bounds the whole run, not the gap between values as timeout does',
    marbles((m) => {
      const source = m.cold('-a-a-a-a-a|');
      const subs = [
        '                    ^-----!                 ',
        '                    ^---------!             ',
      ];
      const expected = '     -a-a-a#    ';
      const withTimeout = '  -a-a-a-a-a|';

      m.expect(source.pipe(jobTimeout(6, m.scheduler))).toBeObservable(
        expected,
        undefined,
        new JobTimeoutError(6),
      );
      m.expect(source.pipe(timeout(3))).toBeObservable(withTimeout);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'lets a source that completes exactly at ms complete',
    marbles((m) => {
      const source = m.cold('-----|');
      const subs = '         ^----!';
      const expected = '     -----|';

      m.expect(source.pipe(jobTimeout(5))).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'counts from subscription, not from when the source began',
    marbles((m) => {
      const source = m.hot('-a-b-c-d-e-|');
      const subscription = '--^         ';
      const subs = '        --^---!     ';
      //                       ----#      4 ms after subscribing
      const expected = '    ---b-c#     ';

      m.expect(source.pipe(jobTimeout(4)), subscription).toBeObservable(
        expected,
        undefined,
        new JobTimeoutError(4),
      );
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'passes a source error through before the timeout',
    marbles((m) => {
      const error = new Error('job failed');
      const source = m.cold('--#   ', undefined, error);
      const subs = '         ^-!   ';
      const expected = '     --#   ';

      m.expect(source.pipe(jobTimeout(5))).toBeObservable(expected, undefined, error);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'never times out with Infinity',
    marbles((m) => {
      const source = m.cold('-a-');
      const subs = '         ^  ';
      const expected = '     -a-';

      m.expect(source.pipe(jobTimeout(Infinity))).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'unsubscribes the source, and never errors, when unsubscribed explicitly',
    marbles((m) => {
      const source = m.cold('--a---b--|');
      const subs = '         ^---!     ';
      const unsub = '        ----!     ';
      const expected = '     --a-      ';

      m.expect(source.pipe(jobTimeout(8)), unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'does not break the unsubscription chain when unsubscribed explicitly',
    marbles((m) => {
      const source = m.cold('--a---b--|');
      const subs = '         ^---!     ';
      const unsub = '        ----!     ';
      const expected = '     --a-      ';

      const result = source.pipe(
        mergeMap((value) => of(value)),
        jobTimeout(8),
        mergeMap((value) => of(value)),
      );

      m.expect(result, unsub).toBeObservable(expected);
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  it(
    'arms a fresh timer for each subscription, so each retry gets the full time',
    marbles((m) => {
      const source = m.cold('---a---|           ');
      //                     -----#              attempt 1 times out; retry after 1 ms
      //                           -----#        attempt 2 times out; retry after 2 ms
      //                                  -----# attempt 3 times out; give up
      const subs = [
        '                    ^----!             ',
        '                    ------^----!       ',
        '                    -------------^----!',
      ];
      const expected = '     ---a-----a------a-#';

      const result = source.pipe(
        jobTimeout(5),
        retryBackoff({
          maxAttempts: 3,
          initialDelay: 1,
          maxDelay: 10,
          backoffFactor: 2,
          retryIf: isJobTimeoutError,
        }),
      );

      m.expect(result).toBeObservable(expected, undefined, new JobTimeoutError(5));
      m.expect(source).toHaveSubscriptions(subs);
    }),
  );

  describe('timers', () => {
    it('arms one timer for a finite ms, none for Infinity', () => {
      const scheduler = new VirtualTimeScheduler();
      const schedule = vi.spyOn(scheduler, 'schedule');
      const forever = NEVER.pipe(jobTimeout(Infinity, scheduler)).subscribe();
      expect(schedule).not.toHaveBeenCalled();
      const bounded = NEVER.pipe(jobTimeout(5, scheduler)).subscribe();
      expect(schedule).toHaveBeenCalledTimes(1);
      forever.unsubscribe();
      bounded.unsubscribe();
    });

    it('arms no timer for a source that completes or errors synchronously', () => {
      const scheduler = new VirtualTimeScheduler();
      const schedule = vi.spyOn(scheduler, 'schedule');
      const values: number[] = [];
      of(1, 2, 3)
        .pipe(jobTimeout(5, scheduler))
        .subscribe((value) => values.push(value));
      throwError(() => new Error('sync'))
        .pipe(jobTimeout(5, scheduler))
        .subscribe({ error: () => {} });
      expect(values).toEqual([1, 2, 3]);
      expect(schedule).not.toHaveBeenCalled();
    });

    it.each([
      ['completes', (subject: Subject<number>) => subject.complete()],
      ['errors', (subject: Subject<number>) => subject.error(new Error('failed'))],
    ])('cancels the timer when the source %s first', (_, settle) => {
      const scheduler = new VirtualTimeScheduler();
      const subject = new Subject<number>();
      subject.pipe(jobTimeout(50, scheduler)).subscribe({ error: () => {} });
      expect(scheduler.actions).toHaveLength(1);
      settle(subject);
      expect(scheduler.actions).toHaveLength(0);
    });

    it('cancels the timer when unsubscribed', () => {
      const scheduler = new VirtualTimeScheduler();
      const subscription = NEVER.pipe(jobTimeout(50, scheduler)).subscribe();
      expect(scheduler.actions).toHaveLength(1);
      subscription.unsubscribe();
      expect(scheduler.actions).toHaveLength(0);
    });

    it('stops a synchronous source once downstream unsubscribes', () => {
      let pulled = 0;
      const values: number[] = [];
      range(0, 1000)
        .pipe(
          tap(() => pulled++),
          jobTimeout(100, new VirtualTimeScheduler()),
          take(2),
        )
        .subscribe((value) => values.push(value));
      expect(values).toEqual([0, 1]);
      expect(pulled).toBe(2);
    });
  });

  describe('with fromHandler', () => {
    it('aborts the handler signal with the JobTimeoutError as reason', async () => {
      const scheduler = new VirtualTimeScheduler();
      let signal: AbortSignal | undefined;
      let timedOut: unknown;
      const seen: unknown[] = [];
      const job = fromHandler(
        (context) => {
          signal = context.signal;
          return new Promise<string>((_, reject) => {
            context.signal.addEventListener('abort', () => reject(context.signal.reason));
          });
        },
        { abortReason: () => timedOut },
      );

      job
        .pipe(jobTimeout(50, scheduler), tap({ error: (error: unknown) => (timedOut = error) }))
        .subscribe({ next: (value) => seen.push(value), error: (error) => seen.push(error) });
      expect(signal?.aborted).toBe(false);

      scheduler.flush();
      await Promise.resolve();

      expect(seen).toEqual([new JobTimeoutError(50)]);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(timedOut);
      expect(isJobTimeoutError(signal?.reason)).toBe(true);
    });

    it('aborts with an AbortError by default when the time runs out', () => {
      const scheduler = new VirtualTimeScheduler();
      let signal: AbortSignal | undefined;
      fromHandler(({ signal: s }) => {
        signal = s;
        return new Promise<never>(() => {});
      })
        .pipe(jobTimeout(10, scheduler))
        .subscribe({ error: () => {} });
      scheduler.flush();
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toHaveProperty('name', 'AbortError');
    });

    it('does not abort a handler that settled in time', async () => {
      const scheduler = new VirtualTimeScheduler();
      let signal: AbortSignal | undefined;
      const values: string[] = [];
      fromHandler(async ({ signal: s }) => {
        signal = s;
        return 'ok';
      })
        .pipe(jobTimeout(10, scheduler))
        .subscribe((value) => values.push(value));
      await new Promise((resolve) => setImmediate(resolve));
      scheduler.flush();
      expect(values).toEqual(['ok']);
      expect(signal?.aborted).toBe(false);
    });
  });
});
