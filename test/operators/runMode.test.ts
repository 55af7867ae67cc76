import { NEVER, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { cron, every, jobTimeout } from '../../operators/index.js';

// Inside testScheduler.run(), RxJS moves asyncScheduler onto the virtual clock: the operators'
// default scheduler must then behave as the TestScheduler passed explicitly does.
function newTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('the default asyncScheduler inside testScheduler.run()', () => {
  it('times out no sooner than the same deadline on the explicit scheduler', () => {
    const outcome = (explicit: boolean) => {
      const testScheduler = newTestScheduler();
      const log: string[] = [];
      testScheduler.run(() => {
        const scheduler = explicit ? testScheduler : undefined;
        // A deadline armed first, on its own, must not pull this one's forward.
        NEVER.pipe(jobTimeout(100, scheduler)).subscribe({ error: () => log.push('other') });
        timer(100, scheduler)
          .pipe(jobTimeout(100, scheduler))
          .subscribe({
            next: () => log.push('next'),
            complete: () => log.push('complete'),
            error: (error: Error) => log.push(error.name),
          });
      });
      return log;
    };
    expect(outcome(true)).toEqual(['other', 'next', 'complete']);
    expect(outcome(false)).toEqual(outcome(true));
  });

  it('orders every() ticks among the other timers of the frame as scheduled', () => {
    const testScheduler = newTestScheduler();
    const log: string[] = [];
    testScheduler.run(() => {
      every(100, { maxRuns: 1 }).subscribe(() => log.push('A'));
      timer(100).subscribe(() => log.push('timer'));
      every(100, { maxRuns: 1 }).subscribe(() => log.push('B'));
    });
    expect(log).toEqual(['A', 'timer', 'B']);
  });

  it('leaves nothing armed behind a run that throws', () => {
    const failing = newTestScheduler();
    expect(() =>
      failing.run(() => {
        NEVER.pipe(jobTimeout(50)).subscribe({ error: () => {} });
        every(50).subscribe();
        throw new Error('an assertion failed');
      }),
    ).toThrow('an assertion failed');

    const testScheduler = newTestScheduler();
    const log: string[] = [];
    testScheduler.run(() => {
      NEVER.pipe(jobTimeout(100)).subscribe({
        error: (error: Error) => log.push(`${testScheduler.now()} ${error.name}`),
      });
      cron('* * * * *', { maxRuns: 1 }).subscribe(({ scheduledAt }) =>
        log.push(`${testScheduler.now()} tick ${scheduledAt}`),
      );
    });
    expect(log).toEqual(['100 JobTimeoutError', '60000 tick 60000']);
  });
});
