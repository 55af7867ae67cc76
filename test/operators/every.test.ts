import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { every } from '../../operators/every.js';
import type { Tick } from '../../operators/timerGuard.js';
import { ClockScheduler, withEpoch } from '../helpers/epochScheduler.js';
import { marbles } from '../helpers/marbles.js';

const tick = (scheduledAt: number, index: number, firedAt = scheduledAt): Tick => ({
  scheduledAt,
  firedAt,
  index,
});

describe('every', () => {
  describe('ordering', () => {
    it(
      'ticks ms apart, the first ms after subscription, like interval',
      marbles((m) => {
        m.expect(every(3, { maxRuns: 3 })).toBeObservable('---a--b--(c|)', {
          a: tick(3, 0),
          b: tick(6, 1),
          c: tick(9, 2),
        });
      }),
    );

    it(
      'starts at a future startAt and keeps its grid',
      marbles((m) => {
        m.expect(every(10, { startAt: 25, maxRuns: 3 })).toBeObservable('25ms a 9ms b 9ms (c|)', {
          a: tick(25, 0),
          b: tick(35, 1),
          c: tick(45, 2),
        });
      }),
    );

    it(
      'fires a past startAt at once, on the scheduler, and builds the grid from then',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        const source$ = every(10, { startAt: new Date(epoch - 1_000), maxRuns: 3, scheduler });
        m.expect(source$).toBeObservable('a 9ms b 9ms (c|)', {
          a: tick(epoch, 0),
          b: tick(epoch + 10, 1),
          c: tick(epoch + 20, 2),
        });
      }),
    );

    it(
      'emits nothing synchronously on subscribe, even when startAt has passed',
      marbles((m) => {
        const ticks: Tick[] = [];
        every(10, { startAt: -5, maxRuns: 1 }).subscribe((t) => ticks.push(t));
        expect(ticks).toEqual([]);
        m.scheduler.flush();
        expect(ticks).toEqual([tick(0, 0)]);
      }),
    );

    it(
      'keeps a fractional grid exact, waking on the next whole millisecond',
      marbles((m) => {
        m.expect(every(1.5, { maxRuns: 3 })).toBeObservable('--a b-(c|)', {
          a: tick(1.5, 0, 2),
          b: tick(3, 1),
          c: tick(4.5, 2, 5),
        });
      }),
    );
  });

  describe('limits and completion', () => {
    it(
      'completes with the tick that reaches maxRuns',
      marbles((m) => {
        m.expect(every(5, { maxRuns: 1 })).toBeObservable('5ms (a|)', { a: tick(5, 0) });
      }),
    );

    it(
      'splits a sleep longer than the cap into 60 s sleeps and still fires on time',
      marbles((m) => {
        const scheduler = new ClockScheduler(m.scheduler, {});
        m.expect(every(150_000, { maxRuns: 2, scheduler })).toBeObservable('150s a 149999ms (b|)', {
          a: tick(150_000, 0),
          b: tick(300_000, 1),
        });
        m.flush();
        expect(scheduler.delays).toEqual([60_000, 60_000, 30_000, 60_000, 60_000, 30_000]);
      }),
    );
  });

  describe('wake guards', () => {
    it(
      're-arms without emitting when a timer fires early',
      marbles((m) => {
        const scheduler = new ClockScheduler(m.scheduler, { sleep: (d) => Math.ceil(d * 0.9) });
        m.expect(every(100, { maxRuns: 2, scheduler })).toBeObservable('100ms a 99ms (b|)', {
          a: tick(100, 0),
          b: tick(200, 1),
        });
        m.flush();
        expect(scheduler.delays).toEqual([100, 10, 1, 100, 10, 1]);
      }),
    );

    it(
      'emits one tick for a suspend spanning three periods, then resumes on the grid',
      marbles((m) => {
        // The machine sleeps through 3 s between the ticks at 2 s and 3 s.
        const scheduler = new ClockScheduler(m.scheduler, {
          offset: (frame) => (frame >= 2_500 ? 3_000 : 0),
        });
        m.expect(every(1_000, { maxRuns: 4, scheduler })).toBeObservable(
          '1s a 999ms b 999ms c 999ms (d|)',
          {
            a: tick(1_000, 0),
            b: tick(2_000, 1),
            c: tick(3_000, 2, 6_000),
            d: tick(7_000, 3),
          },
        );
      }),
    );

    it(
      'emits one late tick when the event loop was blocked, then resumes on the grid',
      marbles((m) => {
        // The first timer fires 2.5 periods late; the clock itself is right.
        const scheduler = new ClockScheduler(m.scheduler, {
          sleep: (d) => (m.scheduler.now() === 0 ? d + 2_500 : d),
        });
        const ticks: Tick[] = [];
        every(1_000, { maxRuns: 3, scheduler }).subscribe((t) => ticks.push(t));
        m.scheduler.flush();
        expect(ticks).toEqual([tick(1_000, 0, 3_500), tick(4_000, 1), tick(5_000, 2)]);
      }),
    );
  });

  describe('unsubscribe', () => {
    it(
      'stops ticking when unsubscribed',
      marbles((m) => {
        m.expect(every(5), '^-------!').toBeObservable('-----a--', { a: tick(5, 0) });
      }),
    );

    it(
      'cancels the pending timer on teardown',
      marbles((m) => {
        // Should a timer survive teardown, this bounds the flush instead of hanging the test.
        m.scheduler.maxFrames = 1_000;
        const ticks: Tick[] = [];
        let pendingAfterUnsubscribe = Number.NaN;
        const subscription = every(5).subscribe((t) => ticks.push(t));
        m.scheduler.schedule(() => {
          subscription.unsubscribe();
          pendingAfterUnsubscribe = m.scheduler.actions.length;
        }, 12);
        m.scheduler.flush();
        expect(ticks).toEqual([tick(5, 0), tick(10, 1)]);
        // The timer armed for frame 15 is gone at once, not left to fire into a closed subscriber.
        expect(pendingAfterUnsubscribe).toBe(0);
        expect(m.scheduler.frame).toBe(12);
        expect(m.scheduler.actions).toHaveLength(0);
      }),
    );

    it(
      'arms no timer when the subscriber unsubscribes synchronously inside a tick',
      marbles((m) => {
        m.scheduler.maxFrames = 1_000;
        const ticks: Tick[] = [];
        every(5)
          .pipe(take(1))
          .subscribe((t) => ticks.push(t));
        m.scheduler.flush();
        expect(ticks).toEqual([tick(5, 0)]);
        expect(m.scheduler.actions).toHaveLength(0);
      }),
    );
  });

  describe('validation, when every() is called', () => {
    it.each([
      [0, RangeError, 'Expected `ms` to be a finite number from 1 and up, got `0` (number)'],
      [0.5, RangeError, 'Expected `ms` to be a finite number from 1 and up, got `0.5` (number)'],
      [
        Number.POSITIVE_INFINITY,
        RangeError,
        'Expected `ms` to be a finite number from 1 and up, got `Infinity` (number)',
      ],
      [
        Number.NaN,
        RangeError,
        'Expected `ms` to be a finite number from 1 and up, got `NaN` (number)',
      ],
      ['5', TypeError, "Expected `ms` to be a finite number from 1 and up, got `'5'` (string)"],
    ])('rejects ms %s', (ms, ErrorClass, message) => {
      expect(() => every(ms as number)).toThrow(new ErrorClass(message));
      expect(() => every(ms as number)).toThrow(ErrorClass);
    });

    it.each([
      [
        { maxRuns: 0 },
        RangeError,
        'Expected `maxRuns` to be a whole number from 1 and up (or Infinity), got `0` (number)',
      ],
      [
        { maxRuns: 2.5 },
        RangeError,
        'Expected `maxRuns` to be a whole number from 1 and up (or Infinity), got `2.5` (number)',
      ],
      [
        { maxRuns: '3' },
        TypeError,
        "Expected `maxRuns` to be a whole number from 1 and up (or Infinity), got `'3'` (string)",
      ],
      [
        { startAt: 'soon' },
        TypeError,
        "Expected `startAt` to be a Date or epoch milliseconds, got `'soon'` (string)",
      ],
      [
        { startAt: new Date(Number.NaN) },
        RangeError,
        'Expected `startAt` to be a Date or epoch milliseconds, got `Invalid Date` (Date)',
      ],
      [
        { maxrun: 3 },
        TypeError,
        'Expected `maxrun` to be left out: the fields are startAt, maxRuns, scheduler, got `3` (number)',
      ],
      [[], TypeError, 'Expected `options` to be an object, got `[]` (array)'],
      [
        { scheduler: {} },
        TypeError,
        'Expected `scheduler` to be an RxJS SchedulerLike, got `{}` (object)',
      ],
      [null, TypeError, 'Expected `options` to be an object, got `null` (null)'],
      [5, TypeError, 'Expected `options` to be an object, got `5` (number)'],
    ])('rejects options %o', (options, ErrorClass, message) => {
      expect(() => every(10, options as never)).toThrow(new ErrorClass(message));
      expect(() => every(10, options as never)).toThrow(ErrorClass);
    });

    it(
      'reads an option set to undefined as absent',
      marbles((m) => {
        // As a caller forwarding its own optional settings passes them.
        const options = { startAt: undefined, maxRuns: undefined, scheduler: undefined };
        const source$ = every(3, options);
        m.expect(source$.pipe(take(3))).toBeObservable('---a--b--(c|)', {
          a: tick(3, 0),
          b: tick(6, 1),
          c: tick(9, 2),
        });
      }),
    );

    it('does not mutate the options object', () => {
      const options = Object.freeze({ maxRuns: 2 });
      every(10, options);
      expect(options).toEqual({ maxRuns: 2 });
    });
  });
});
