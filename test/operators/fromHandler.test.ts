import { map, mergeMap, Observable, of, type Subscription, take } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHandler } from '../../operators/index.js';
import { marbles } from '../helpers/marbles.js';

/** Resolves after every queued microtask (and the promise jobs they queue) has run. */
const settleMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Recording<T> {
  readonly values: T[];
  readonly errors: unknown[];
  completed: boolean;
  readonly subscription: Subscription;
}

/** Subscribes and records the values, the errors and the completion. */
function record<T>(source: Observable<T>): Recording<T> {
  const values: T[] = [];
  const errors: unknown[] = [];
  const recording = { values, errors, completed: false };
  const subscription = source.subscribe({
    next: (value) => values.push(value),
    error: (error: unknown) => errors.push(error),
    complete: () => {
      recording.completed = true;
    },
  });
  return Object.assign(recording, { subscription });
}

/** Collects unhandled rejections for the duration of a test. */
function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('fromHandler', () => {
  describe('validation, at creation', () => {
    it('rejects a handler that is not a function', () => {
      expect(() => fromHandler(123 as never)).toThrow(
        new TypeError('Expected `fn` to be a function, got `123` (number)'),
      );
    });

    it('rejects an abortReason that is not a function', () => {
      const fn = vi.fn(() => 1);
      expect(() => fromHandler(fn, { abortReason: 'stop' as never })).toThrow(
        new TypeError("Expected `abortReason` to be a function, got `'stop'` (string)"),
      );
      expect(fn).not.toHaveBeenCalled();
    });

    it('rejects options that are not an object, or a misspelt option', () => {
      const fn = () => 1;
      expect(() => fromHandler(fn, null as never)).toThrow(
        new TypeError('Expected `options` to be an object, got `null` (null)'),
      );
      expect(() => fromHandler(fn, { abortreason: () => 1 } as never)).toThrow(
        new TypeError(
          'Expected `abortreason` to be left out: the fields are abortReason, got `[function abortreason]` (function)',
        ),
      );
    });
  });

  describe('plain values', () => {
    it(
      'emits a returned value and completes',
      marbles((m) => {
        m.expect(fromHandler(() => 42)).toBeObservable('(v|)', { v: 42 });
      }),
    );

    it(
      'emits a returned array as ONE value',
      marbles((m) => {
        m.expect(fromHandler(() => [1, 2, 3])).toBeObservable('(v|)', { v: [1, 2, 3] });
      }),
    );

    it(
      'emits undefined when the handler returns nothing',
      marbles((m) => {
        m.expect(fromHandler(() => undefined)).toBeObservable('(v|)', { v: undefined });
      }),
    );

    it('runs the handler once per subscription, not before', () => {
      const fn = vi.fn(() => 'ran');
      const job = fromHandler(fn);
      expect(fn).not.toHaveBeenCalled();
      expect(record(job).values).toEqual(['ran']);
      expect(record(job).values).toEqual(['ran']);
      expect(fn).toHaveBeenCalledTimes(2);
    });
  });

  describe('synchronous throws', () => {
    it.each([
      ['an Error', new Error('boom')],
      ['a string', 'boom'],
      ['undefined', undefined],
    ])('turns a thrown %s into an error notification', (_, thrown) => {
      const seen = record(
        fromHandler(() => {
          throw thrown;
        }),
      );
      expect(seen.errors).toEqual([thrown]);
      expect(seen.errors).toHaveLength(1);
      expect(seen.values).toEqual([]);
      expect(seen.completed).toBe(false);
    });
  });

  describe('Observables', () => {
    it(
      'emits each value of a returned Observable, and its completion',
      marbles((m) => {
        const inner = m.cold('-a-b-|');
        const innerSubs = '   ^----!';
        const expected = '    -a-b-|';

        m.expect(fromHandler(() => inner)).toBeObservable(expected);
        m.expect(inner).toHaveSubscriptions(innerSubs);
      }),
    );

    it(
      'passes the error of a returned Observable through',
      marbles((m) => {
        const inner = m.cold('-a-#');
        const innerSubs = '   ^--!';
        const expected = '    -a-#';

        m.expect(fromHandler(() => inner)).toBeObservable(expected);
        m.expect(inner).toHaveSubscriptions(innerSubs);
      }),
    );

    it(
      'unsubscribes the returned Observable when unsubscribed explicitly',
      marbles((m) => {
        const inner = m.cold('-a-b-c-|');
        const innerSubs = '   ^--!    ';
        const unsub = '       ---!    ';
        const expected = '    -a-     ';

        m.expect(
          fromHandler(() => inner),
          unsub,
        ).toBeObservable(expected);
        m.expect(inner).toHaveSubscriptions(innerSubs);
      }),
    );

    it(
      'does not break the unsubscription chain when unsubscribed explicitly',
      marbles((m) => {
        const source = m.hot('-x-----|');
        const sourceSubs = '  ^---!   ';
        const inner = m.cold(' a-b-c-|');
        //                     a-b-|    cut short at 4
        const innerSubs = '   -^--!   ';
        const unsub = '       ----!   ';
        const expected = '    -a-b    ';

        const result = source.pipe(
          mergeMap(() => fromHandler(() => inner)),
          map((value) => value),
        );

        m.expect(result, unsub).toBeObservable(expected);
        m.expect(source).toHaveSubscriptions(sourceSubs);
        m.expect(inner).toHaveSubscriptions(innerSubs);
      }),
    );

    it('aborts the signal when unsubscribed before the Observable settles, first thing', () => {
      let signal: AbortSignal | undefined;
      let abortedWhenInnerTornDown: boolean | undefined;
      const inner = new Observable<number>(() => () => {
        abortedWhenInnerTornDown = signal?.aborted;
      });
      const reason = new Error('cancelled');
      const subscription = fromHandler(
        (context) => {
          signal = context.signal;
          return inner;
        },
        { abortReason: () => reason },
      ).subscribe();
      expect(signal?.aborted).toBe(false);
      subscription.unsubscribe();
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(reason);
      // The inner's own teardown can already see the abort.
      expect(abortedWhenInnerTornDown).toBe(true);
    });

    it.each([
      ['completes', of(1)],
      ['errors', new Observable<number>((subscriber) => subscriber.error(new Error('x')))],
    ])('does not abort the signal once the Observable %s', (_, inner) => {
      let signal: AbortSignal | undefined;
      const abortReason = vi.fn(() => 'late');
      const seen = record(
        fromHandler(
          (context) => {
            signal = context.signal;
            return inner;
          },
          { abortReason },
        ),
      );
      seen.subscription.unsubscribe();
      expect(seen.subscription.closed).toBe(true);
      expect(signal?.aborted).toBe(false);
      expect(abortReason).not.toHaveBeenCalled();
    });

    it('stops a synchronous Observable once downstream unsubscribes', () => {
      let emitted = 0;
      const counting = new Observable<number>((subscriber) => {
        for (let i = 0; i < 1000 && !subscriber.closed; i++) {
          emitted++;
          subscriber.next(i);
        }
        subscriber.complete();
      });
      const seen = record(fromHandler(() => counting).pipe(take(2)));
      expect(seen.values).toEqual([0, 1]);
      expect(seen.completed).toBe(true);
      expect(emitted).toBe(2);
    });
  });

  describe('promises', () => {
    it('emits the value a promise resolves to, then completes', async () => {
      const seen = record(fromHandler(async () => 'done'));
      expect(seen.values).toEqual([]);
      await settleMicrotasks();
      expect(seen.values).toEqual(['done']);
      expect(seen.completed).toBe(true);
    });

    it('emits an array a promise resolves to as ONE value', async () => {
      const seen = record(fromHandler(() => Promise.resolve(['a', 'b'])));
      await settleMicrotasks();
      expect(seen.values).toEqual([['a', 'b']]);
    });

    it('accepts any PromiseLike', async () => {
      const thenable: PromiseLike<number> = {
        // biome-ignore lint/suspicious/noThenProperty: a PromiseLike is the point of this test.
        then: (onFulfilled) => Promise.resolve(7).then(onFulfilled),
      };
      const seen = record(fromHandler(() => thenable));
      await settleMicrotasks();
      expect(seen.values).toEqual([7]);
      expect(seen.completed).toBe(true);
    });

    it.each([
      ['an Error', new Error('rejected')],
      ['a string', 'rejected'],
      ['undefined', undefined],
      ['null', null],
    ])('turns a rejection with %s into an error notification', async (_, reason) => {
      const watch = watchUnhandledRejections();
      try {
        const seen = record(fromHandler(() => Promise.reject(reason)));
        await settleMicrotasks();
        expect(seen.errors).toHaveLength(1);
        expect(seen.errors[0]).toBe(reason);
        expect(seen.completed).toBe(false);
        expect(watch.reasons).toEqual([]);
      } finally {
        watch.stop();
      }
    });

    it('aborts the signal with abortReason() when unsubscribed mid-flight', async () => {
      const reason = new Error('no longer needed');
      let signal: AbortSignal | undefined;
      const job = fromHandler(
        ({ signal: s }) => {
          signal = s;
          return new Promise<string>(() => {});
        },
        { abortReason: () => reason },
      );
      const seen = record(job);
      await settleMicrotasks();
      expect(signal?.aborted).toBe(false);
      seen.subscription.unsubscribe();
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(reason);
    });

    it('aborts with an AbortError when no abortReason is given', () => {
      let signal: AbortSignal | undefined;
      const seen = record(
        fromHandler(({ signal: s }) => {
          signal = s;
          return new Promise<string>(() => {});
        }),
      );
      seen.subscription.unsubscribe();
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(DOMException);
      expect(signal?.reason).toHaveProperty('name', 'AbortError');
    });

    it('does not abort once the promise has settled', async () => {
      let signal: AbortSignal | undefined;
      const abortReason = vi.fn(() => 'late');
      const gate = deferred<string>();
      const seen = record(
        fromHandler(
          ({ signal: s }) => {
            signal = s;
            return gate.promise;
          },
          { abortReason },
        ),
      );
      gate.resolve('ok');
      await settleMicrotasks();
      seen.subscription.unsubscribe();
      expect(seen.values).toEqual(['ok']);
      expect(signal?.aborted).toBe(false);
      expect(abortReason).not.toHaveBeenCalled();
    });

    it('gives each subscription its own signal', () => {
      const signals: AbortSignal[] = [];
      const job = fromHandler(({ signal }) => {
        signals.push(signal);
        return new Promise<never>(() => {});
      });
      const first = job.subscribe();
      const second = job.subscribe();
      first.unsubscribe();
      expect(signals).toHaveLength(2);
      expect(signals[0]?.aborted).toBe(true);
      expect(signals[1]?.aborted).toBe(false);
      second.unsubscribe();
      expect(signals[1]?.aborted).toBe(true);
    });

    it('raises no unhandled rejection when the promise rejects after unsubscribe', async () => {
      const watch = watchUnhandledRejections();
      try {
        const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
        const reasons = [new Error('late'), undefined, 'late'];
        const seen = gates.map((gate) => record(fromHandler(() => gate.promise)));
        for (const entry of seen) entry.subscription.unsubscribe();
        for (const [i, gate] of gates.entries()) gate.reject(reasons[i]);
        await settleMicrotasks();
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(watch.reasons).toEqual([]);
        expect(seen.flatMap((entry) => entry.errors)).toEqual([]);
      } finally {
        watch.stop();
      }
    });

    it('raises no unhandled rejection when the handler rejects with the abort reason', async () => {
      const watch = watchUnhandledRejections();
      try {
        const seen = record(
          fromHandler(
            ({ signal }) =>
              new Promise<string>((_, reject) => {
                signal.addEventListener('abort', () => reject(signal.reason));
              }),
            { abortReason: () => 'stopped' },
          ),
        );
        seen.subscription.unsubscribe();
        await settleMicrotasks();
        expect(watch.reasons).toEqual([]);
        expect(seen.errors).toEqual([]);
      } finally {
        watch.stop();
      }
    });
  });

  describe('the lazy signal', () => {
    /** Stubs AbortController with a subclass that counts how many were made. */
    function countAbortControllers(): { readonly count: number } {
      const counter = { count: 0 };
      class CountingAbortController extends AbortController {
        constructor() {
          super();
          counter.count++;
        }
      }
      vi.stubGlobal('AbortController', CountingAbortController);
      return counter;
    }

    it('makes no AbortController for a handler that never reads signal', async () => {
      const counter = countAbortControllers();
      const gate = deferred<number>();
      const done = record(fromHandler(() => Promise.resolve(1)));
      const cancelled = record(fromHandler(() => gate.promise));
      const plain = record(fromHandler(() => 'x'));
      cancelled.subscription.unsubscribe();
      await settleMicrotasks();
      expect(done.values).toEqual([1]);
      expect(plain.values).toEqual(['x']);
      expect(counter.count).toBe(0);
    });

    it('makes exactly one when the handler reads signal, however often', () => {
      const counter = countAbortControllers();
      let same = false;
      record(
        fromHandler((context) => {
          const first = context.signal;
          same = first === context.signal;
          return 1;
        }),
      );
      expect(same).toBe(true);
      expect(counter.count).toBe(1);
    });

    it('hands an already-aborted signal to a handler that reads it only after unsubscribe', async () => {
      const reason = new Error('gone');
      const gate = deferred<void>();
      let signal: AbortSignal | undefined;
      const seen = record(
        fromHandler(
          async (context) => {
            await gate.promise;
            // Read only now, after the subscriber has gone: it must already be aborted.
            signal = context.signal;
            return signal.aborted ? 'aborted' : 'would have run';
          },
          { abortReason: () => reason },
        ),
      );
      seen.subscription.unsubscribe();
      gate.resolve();
      await settleMicrotasks();
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(reason);
    });
  });
});
