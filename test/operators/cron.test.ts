import { runInNewContext } from 'node:vm';
import { type Observable, type SchedulerLike, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  cron,
  cronFireTimes,
  InvalidCronExpressionError,
  isInvalidCronExpressionError,
  nextCronFire,
} from '../../operators/cron.js';
import { MAX_SLEEP_MS, type Tick } from '../../operators/timerGuard.js';
import { ClockScheduler, withEpoch } from '../helpers/epochScheduler.js';
import { marbles } from '../helpers/marbles.js';

const tick = (scheduledAt: number, index: number, firedAt = scheduledAt): Tick => ({
  scheduledAt,
  firedAt,
  index,
});

/** Ticks fired on time at these instants. */
const onTime = (...instants: number[]): Tick[] => instants.map((at, index) => tick(at, index));

/** Subscribes, runs virtual time to completion and returns every tick. */
function collect(source$: Observable<Tick>, scheduler: SchedulerLike & { flush(): void }): Tick[] {
  const ticks: Tick[] = [];
  source$.subscribe((t) => ticks.push(t));
  scheduler.flush();
  return ticks;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('cron', () => {
  describe('ordering', () => {
    it(
      'fires at each fire time, with a seconds field, counting from scheduler.now()',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        m.expect(cron('*/2 * * * * *', { maxRuns: 3, scheduler })).toBeObservable(
          '2s a 1999ms b 1999ms (c|)',
          { a: tick(epoch + 2_000, 0), b: tick(epoch + 4_000, 1), c: tick(epoch + 6_000, 2) },
        );
      }),
    );

    it(
      'fires strictly after subscription: subscribing on a fire time waits for the next',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1, 9, 0);
        const scheduler = withEpoch(m.scheduler, epoch);
        m.expect(cron('0 * * * *', { maxRuns: 1, scheduler })).toBeObservable('60m (a|)', {
          a: tick(epoch + HOUR, 0),
        });
      }),
    );

    it(
      'reads the expression in UTC by default, whatever the host zone',
      marbles((m) => {
        const hostZone = process.env.TZ;
        process.env.TZ = 'America/New_York';
        try {
          const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 0, 1));
          const ticks = collect(cron('0 9 * * *', { maxRuns: 1, scheduler }), m.scheduler);
          expect(ticks).toEqual(onTime(Date.UTC(2026, 0, 1, 9)));
        } finally {
          if (hostZone === undefined) delete process.env.TZ;
          else process.env.TZ = hostZone;
        }
      }),
    );
  });

  describe('limits and completion', () => {
    it(
      'fires no earlier than startAt, including a fire time exactly at startAt',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        const startAt = new Date(epoch + 5_000);
        m.expect(cron('* * * * * *', { startAt, maxRuns: 2, scheduler })).toBeObservable(
          '5s a 999ms (b|)',
          {
            a: tick(epoch + 5_000, 0),
            b: tick(epoch + 6_000, 1),
          },
        );
      }),
    );

    it(
      'completes with the tick at endAt, which is inclusive',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        m.expect(cron('* * * * * *', { endAt: epoch + 3_000, scheduler })).toBeObservable(
          '1s a 999ms b 999ms (c|)',
          { a: tick(epoch + 1_000, 0), b: tick(epoch + 2_000, 1), c: tick(epoch + 3_000, 2) },
        );
      }),
    );

    it(
      'completes synchronously on subscribe when no fire time is left before endAt',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1, 0, 0, 30);
        const scheduler = withEpoch(m.scheduler, epoch);
        let completed = false;
        cron('0 * * * *', { endAt: epoch + MINUTE, scheduler }).subscribe({
          complete: () => {
            completed = true;
          },
        });
        expect(completed).toBe(true);
        expect(m.scheduler.actions).toHaveLength(0);
      }),
    );
  });

  describe('DST', () => {
    it(
      'America/New_York spring-forward: 02:30 does not exist on 2026-03-08 and fires at 03:30 EDT',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 2, 6, 12));
        const source$ = cron('30 2 * * *', { timezone: 'America/New_York', maxRuns: 4, scheduler });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 2, 7, 7, 30), // 02:30 EST
            Date.UTC(2026, 2, 8, 7, 30), // 03:30 EDT, one gap after the missing 02:30
            Date.UTC(2026, 2, 9, 6, 30), // 02:30 EDT
            Date.UTC(2026, 2, 10, 6, 30),
          ),
        );
      }),
    );

    it(
      'America/New_York fall-back: 01:30 happens twice on 2026-11-01 and fires once',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 9, 30, 12));
        const source$ = cron('30 1 * * *', { timezone: 'America/New_York', maxRuns: 4, scheduler });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 9, 31, 5, 30), // 01:30 EDT
            Date.UTC(2026, 10, 1, 5, 30), // the first 01:30, EDT; not again at 06:30Z (EST)
            Date.UTC(2026, 10, 2, 6, 30), // 01:30 EST
            Date.UTC(2026, 10, 3, 6, 30),
          ),
        );
      }),
    );

    it(
      'America/New_York spring-forward: every time in the skipped hour fires, one gap later',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 2, 8, 5));
        const source$ = cron('15,45 2 * * *', {
          timezone: 'America/New_York',
          maxRuns: 4,
          scheduler,
        });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 2, 8, 7, 15), // 03:15 EDT, for the missing 02:15
            Date.UTC(2026, 2, 8, 7, 45), // 03:45 EDT, for the missing 02:45
            Date.UTC(2026, 2, 9, 6, 15), // 02:15 EDT
            Date.UTC(2026, 2, 9, 6, 45),
          ),
        );
      }),
    );

    it(
      'America/New_York fall-back: a named hour fires once, at its first occurrence',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 10, 1, 4));
        const source$ = cron('*/30 1 * * *', {
          timezone: 'America/New_York',
          maxRuns: 3,
          scheduler,
        });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 10, 1, 5), // 01:00 EDT
            Date.UTC(2026, 10, 1, 5, 30), // 01:30 EDT; not again at 06:00Z and 06:30Z (EST)
            Date.UTC(2026, 10, 2, 6), // 01:00 EST
          ),
        );
      }),
    );

    it(
      'America/New_York hourly: the missing 02:00 hour of 2026-03-08 is skipped',
      marbles((m) => {
        const march = withEpoch(m.scheduler, Date.UTC(2026, 2, 8, 5, 30));
        const source$ = cron('0 * * * *', {
          timezone: 'America/New_York',
          maxRuns: 3,
          scheduler: march,
        });
        // 01:00 EST, then 03:00 EDT: the 02:00 hour does not exist.
        const ticks = collect(source$, m.scheduler);
        expect(ticks).toEqual(
          onTime(Date.UTC(2026, 2, 8, 6), Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 2, 8, 8)),
        );
      }),
    );

    it(
      'America/New_York hourly: both 01:00s of 2026-11-01 fire, an hour apart',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 10, 1, 4, 30));
        const source$ = cron('0 * * * *', { timezone: 'America/New_York', maxRuns: 3, scheduler });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(Date.UTC(2026, 10, 1, 5), Date.UTC(2026, 10, 1, 6), Date.UTC(2026, 10, 1, 7)),
        );
      }),
    );

    it(
      'Europe/London spring-forward: 01:30 does not exist on 2026-03-29 and fires at 02:30 BST',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 2, 27, 12));
        const source$ = cron('30 1 * * *', { timezone: 'Europe/London', maxRuns: 3, scheduler });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 2, 28, 1, 30), // 01:30 GMT
            Date.UTC(2026, 2, 29, 1, 30), // 02:30 BST, one gap after the missing 01:30
            Date.UTC(2026, 2, 30, 0, 30), // 01:30 BST
          ),
        );
      }),
    );

    it(
      'Europe/London fall-back: 01:30 happens twice on 2026-10-25 and fires once',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 9, 23, 12));
        const source$ = cron('30 1 * * *', { timezone: 'Europe/London', maxRuns: 3, scheduler });
        expect(collect(source$, m.scheduler)).toEqual(
          onTime(
            Date.UTC(2026, 9, 24, 0, 30), // 01:30 BST
            Date.UTC(2026, 9, 25, 0, 30), // the first 01:30, BST; not again at 01:30Z (GMT)
            Date.UTC(2026, 9, 26, 1, 30), // 01:30 GMT
          ),
        );
      }),
    );
  });

  describe('long sleeps', () => {
    it(
      'reaches a monthly fire more than 2^31 ms away at exactly the right frame, in 60 s sleeps',
      marbles((m) => {
        const epoch = Date.UTC(2026, 2, 1, 0, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        const firstFrame = Date.UTC(2026, 3, 1) - epoch;
        expect(firstFrame).toBe(2_678_399_000);
        expect(firstFrame).toBeGreaterThan(2 ** 31 - 1);
        m.expect(cron('0 0 1 * *', { maxRuns: 2, scheduler })).toBeObservable(
          `${firstFrame}ms a ${Date.UTC(2026, 4, 1) - Date.UTC(2026, 3, 1) - 1}ms (b|)`,
          { a: tick(Date.UTC(2026, 3, 1), 0), b: tick(Date.UTC(2026, 4, 1), 1) },
        );
        m.flush();
        expect(Math.max(...scheduler.delays)).toBe(MAX_SLEEP_MS);
        expect(scheduler.delays).toHaveLength(Math.ceil(firstFrame / MAX_SLEEP_MS) + 30 * 24 * 60);
      }),
    );

    it(
      'fires 0 0 29 2 * on 2028-02-29 when started in 2026',
      marbles((m) => {
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 2, 8));
        const ticks = collect(cron('0 0 29 2 *', { maxRuns: 1, scheduler }), m.scheduler);
        expect(ticks).toEqual(onTime(Date.UTC(2028, 1, 29)));
      }),
    );
  });

  describe('wake guards', () => {
    it(
      're-arms without emitting when a timer fires early',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = new ClockScheduler(m.scheduler, {
          offset: () => epoch,
          sleep: (d) => Math.ceil(d * 0.9),
        });
        m.expect(cron('*/10 * * * * *', { maxRuns: 2, scheduler })).toBeObservable(
          '10s a 9999ms (b|)',
          {
            a: tick(epoch + 10_000, 0),
            b: tick(epoch + 20_000, 1),
          },
        );
        m.flush();
        expect(scheduler.delays).toEqual([10_000, 1_000, 100, 10, 1, 10_000, 1_000, 100, 10, 1]);
      }),
    );

    it(
      'emits one tick for a suspend spanning three periods, then resumes on schedule',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        // The machine sleeps through 30 s between the fires at 20 s and 30 s.
        const scheduler = new ClockScheduler(m.scheduler, {
          offset: (frame) => epoch + (frame >= 25_000 ? 30_000 : 0),
        });
        m.expect(cron('*/10 * * * * *', { maxRuns: 4, scheduler })).toBeObservable(
          '10s a 9999ms b 9999ms c 9999ms (d|)',
          {
            a: tick(epoch + 10_000, 0),
            b: tick(epoch + 20_000, 1),
            c: tick(epoch + 30_000, 2, epoch + 60_000),
            d: tick(epoch + 70_000, 3),
          },
        );
      }),
    );

    it(
      'does not fire the repeated 01:30 after a suspend across the New York fall-back',
      marbles((m) => {
        const epoch = Date.UTC(2026, 10, 1, 5, 20); // 01:20 EDT
        // Asleep from 01:24 EDT until 01:15 EST, past the first 01:30 and before the second.
        const scheduler = new ClockScheduler(m.scheduler, {
          offset: (frame) => epoch + (frame >= 4 * MINUTE ? 51 * MINUTE : 0),
        });
        const source$ = cron('30 1 * * *', { timezone: 'America/New_York', maxRuns: 2, scheduler });
        expect(collect(source$, m.scheduler)).toEqual([
          tick(Date.UTC(2026, 10, 1, 5, 30), 0, Date.UTC(2026, 10, 1, 6, 15)),
          tick(Date.UTC(2026, 10, 2, 6, 30), 1),
        ]);
      }),
    );
  });

  describe('unsubscribe', () => {
    it(
      'stops ticking when unsubscribed',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        m.expect(cron('* * * * * *', { scheduler }), '^ 2500ms !').toBeObservable('1s a 999ms b', {
          a: tick(epoch + 1_000, 0),
          b: tick(epoch + 2_000, 1),
        });
      }),
    );

    it(
      'cancels the pending timer on teardown',
      marbles((m) => {
        // Should a timer survive teardown, this bounds the flush instead of hanging the test.
        m.scheduler.maxFrames = DAY;
        const scheduler = withEpoch(m.scheduler, Date.UTC(2026, 0, 1));
        const ticks: Tick[] = [];
        let pendingAfterUnsubscribe = Number.NaN;
        const subscription = cron('0 * * * *', { scheduler }).subscribe((t) => ticks.push(t));
        m.scheduler.schedule(
          () => {
            subscription.unsubscribe();
            pendingAfterUnsubscribe = m.scheduler.actions.length;
          },
          HOUR + 30 * MINUTE + 1,
        );
        m.scheduler.flush();
        expect(ticks).toEqual(onTime(Date.UTC(2026, 0, 1, 1)));
        // The capped sleep armed for the next minute is gone at once.
        expect(pendingAfterUnsubscribe).toBe(0);
        expect(m.scheduler.frame).toBe(HOUR + 30 * MINUTE + 1);
        expect(m.scheduler.actions).toHaveLength(0);
      }),
    );
  });

  describe('validation, when cron() is called', () => {
    it('throws InvalidCronExpressionError carrying the expression and the parser reason', () => {
      let caught: unknown;
      try {
        cron('61 * * * *');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidCronExpressionError);
      expect(caught).toBeInstanceOf(Error);
      expect(caught).toMatchObject({
        name: 'InvalidCronExpressionError',
        expression: '61 * * * *',
        reason: 'Constraint error, got value 61 expected range 0-59',
        message:
          "Invalid cron expression in `expression`, got '61 * * * *' (string): Constraint error, got value 61 expected range 0-59",
      });
      expect(isInvalidCronExpressionError(caught)).toBe(true);
    });

    it.each([
      ['0 0 30 2 *', 'Invalid explicit day of month definition'],
      ['* * * * * * *', 'The expression has 7 fields, expected 5, or 6 with seconds first'],
      ['', 'The expression is empty'],
    ])('rejects %o', (expression, reason) => {
      expect(() => cron(expression)).toThrow(
        new InvalidCronExpressionError(expression, reason).message,
      );
    });

    // cron-parser pads a short expression with leading `*`: '0 9 * *' would fire every minute
    // on the 9th of the month.
    it.each([
      ['0 9 * *', 4],
      ['*/5 * *', 3],
      ['* *', 2],
      ['  *   0  ', 2],
      ['*', 1],
      ['@every 5m', 2],
    ])(
      'rejects %o, of %i field(s), from cron, nextCronFire and cronFireTimes',
      (expression, count) => {
        const reason = `The expression has ${count} field${count === 1 ? '' : 's'}, expected 5, or 6 with seconds first`;
        const expected = new InvalidCronExpressionError(expression, reason).message;
        expect(() => cron(expression)).toThrow(expected);
        expect(() => cron(expression)).toThrow(InvalidCronExpressionError);
        expect(() => nextCronFire(expression, 0)).toThrow(expected);
        expect(() => cronFireTimes(expression)).toThrow(expected);
      },
    );

    it.each([
      ['@hourly', Date.UTC(2026, 0, 2, 13)],
      ['@daily', Date.UTC(2026, 0, 3)],
      ['@weekly', Date.UTC(2026, 0, 4)],
      ['@monthly', Date.UTC(2026, 1, 1)],
      ['@yearly', Date.UTC(2027, 0, 1)],
    ])("still accepts cron-parser's predefined %s, though it is one field", (expression, next) => {
      expect(() => cron(expression)).not.toThrow();
      expect(nextCronFire(expression, Date.UTC(2026, 0, 2, 12))).toBe(next);
    });

    it("reads a predefined name with spaces around it, as ' @daily '", () => {
      expect(nextCronFire(' @daily ', Date.UTC(2026, 0, 2, 12))).toBe(Date.UTC(2026, 0, 3));
    });

    it("leaves an unknown '@' name to cron-parser to reject", () => {
      expect(() => cron('@reboot')).toThrow(InvalidCronExpressionError);
    });

    it(
      'reads an option set to undefined as absent: UTC, no limits, asyncScheduler',
      marbles((m) => {
        // As a caller forwarding its own optional settings passes them.
        const options = {
          timezone: undefined,
          startAt: undefined,
          endAt: undefined,
          maxRuns: undefined,
          scheduler: undefined,
        };
        const source$ = cron('0 9 * * *', options);
        // Virtual time starts at epoch 0, a midnight in UTC.
        expect(collect(source$.pipe(take(2)), m.scheduler)).toEqual(
          onTime(9 * HOUR, DAY + 9 * HOUR),
        );
      }),
    );

    it('recognises the error across realms by name', () => {
      const foreign = runInNewContext(
        'const e = new Error("x"); e.name = "InvalidCronExpressionError"; e',
      );
      expect(foreign).not.toBeInstanceOf(Error);
      expect(isInvalidCronExpressionError(foreign)).toBe(true);
      expect(isInvalidCronExpressionError(new Error('x'))).toBe(false);
      expect(isInvalidCronExpressionError(null)).toBe(false);
    });

    it.each([
      [
        42,
        {},
        TypeError,
        'Expected `expression` to be a cron expression string, got `42` (number)',
      ],
      [
        '* * * * *',
        { timezone: 'Not/AZone' },
        RangeError,
        "Expected `timezone` to be an IANA time zone such as 'America/New_York', got `'Not/AZone'` (string)",
      ],
      [
        '* * * * *',
        { timezone: 'system' },
        RangeError,
        "Expected `timezone` to be an IANA time zone such as 'America/New_York', got `'system'` (string)",
      ],
      [
        '* * * * *',
        { timezone: 0 },
        TypeError,
        "Expected `timezone` to be an IANA time zone such as 'America/New_York', got `0` (number)",
      ],
      [
        '* * * * *',
        { maxRuns: 0 },
        RangeError,
        'Expected `maxRuns` to be a whole number from 1 and up (or Infinity), got `0` (number)',
      ],
      [
        '* * * * *',
        { startAt: 'tomorrow' },
        TypeError,
        "Expected `startAt` to be a Date or epoch milliseconds, got `'tomorrow'` (string)",
      ],
      [
        '* * * * *',
        { endAt: new Date(Number.NaN) },
        RangeError,
        'Expected `endAt` to be a Date or epoch milliseconds, got `Invalid Date` (Date)',
      ],
      [
        '* * * * *',
        { timeZone: 'Europe/Paris' },
        TypeError,
        "Expected `timeZone` to be left out: the fields are timezone, startAt, endAt, maxRuns, scheduler, got `'Europe/Paris'` (string)",
      ],
      [
        '* * * * *',
        { startAt: 2_000, endAt: 1_000 },
        RangeError,
        'Expected `endAt` to be no earlier than `startAt` (2000), got `1000` (number)',
      ],
      [
        '* * * * *',
        { scheduler: null },
        TypeError,
        'Expected `scheduler` to be an RxJS SchedulerLike, got `null` (null)',
      ],
      ['* * * * *', null, TypeError, 'Expected `options` to be an object, got `null` (null)'],
      ['* * * * *', 'UTC', TypeError, "Expected `options` to be an object, got `'UTC'` (string)"],
    ])('rejects %o with %o', (expression, options, ErrorClass, message) => {
      expect(() => cron(expression as string, options as never)).toThrow(new ErrorClass(message));
      expect(() => cron(expression as string, options as never)).toThrow(ErrorClass);
    });
  });

  describe('nextCronFire', () => {
    it('answers from a fixed time, in the given zone, without a clock', () => {
      expect(nextCronFire('0 9 * * 1-5', Date.UTC(2026, 0, 2, 14), 'America/New_York')).toBe(
        Date.UTC(2026, 0, 5, 14),
      );
      expect(nextCronFire('0 0 29 2 *', new Date(Date.UTC(2026, 2, 8)))).toBe(
        Date.UTC(2028, 1, 29),
      );
    });

    it('is strictly after the given time', () => {
      expect(nextCronFire('0 * * * *', Date.UTC(2026, 0, 1, 1))).toBe(Date.UTC(2026, 0, 1, 2));
      expect(nextCronFire('0 * * * *', Date.UTC(2026, 0, 1, 1) - 1)).toBe(Date.UTC(2026, 0, 1, 1));
    });

    it(
      'agrees with cron() on hashed H fields',
      marbles((m) => {
        const epoch = Date.UTC(2026, 0, 1);
        const scheduler = withEpoch(m.scheduler, epoch);
        const expected = nextCronFire('H H * * *', epoch);
        expect(expected).toBeGreaterThan(epoch);
        const ticks = collect(cron('H H * * *', { maxRuns: 1, scheduler }), m.scheduler);
        expect(ticks.map((t) => t.scheduledAt)).toEqual([expected]);
      }),
    );

    it('validates like cron()', () => {
      expect(() => nextCronFire('61 * * * *', 0)).toThrow(InvalidCronExpressionError);
      expect(() => nextCronFire('* * * * *', 0, 'Mars/Olympus')).toThrow(RangeError);
      expect(() => nextCronFire('* * * * *', Number.NaN)).toThrow(
        new RangeError('Expected `after` to be a Date or epoch milliseconds, got `NaN` (number)'),
      );
    });
  });

  describe('cronFireTimes', () => {
    it('answers as nextCronFire does, for one expression and zone', () => {
      const next = cronFireTimes('0 9 * * 1-5', 'America/New_York');
      const times = [Date.UTC(2026, 0, 2, 14), Date.UTC(2026, 2, 7), Date.UTC(2026, 10, 1, 13)];
      for (const time of times) {
        expect(next(time)).toBe(nextCronFire('0 9 * * 1-5', time, 'America/New_York'));
      }
      // Asked again for an earlier time, the remembered answer is not reused.
      expect(next(times[0] as number)).toBe(Date.UTC(2026, 0, 5, 14));
    });

    it('checks the expression and zone once, when it is made', () => {
      expect(() => cronFireTimes('61 * * * *')).toThrow(InvalidCronExpressionError);
      expect(() => cronFireTimes('* * * * *', 'Mars/Olympus')).toThrow(RangeError);
    });
  });
});
