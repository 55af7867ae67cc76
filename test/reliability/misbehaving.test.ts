import { setTimeout as sleep } from 'node:timers/promises';
import { NEVER, Observable, config as rxjsConfig, throwError, timer } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobScheduler, JobTimeoutError } from '../../src/index.js';
import { recordUnhandledRejections } from '../helpers/unhandledRejections.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('misbehaving handlers, in virtual time', () => {
  it('survives a handler that throws synchronously', () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const bad = scheduler.submitJob({
        name: 'throws',
        handler: () => {
          throw new TypeError('not a function');
        },
      });
      const good = scheduler.submitJob({ name: 'after', handler: work(1, 'ok') });
      flush();
      expect(scheduler.getJobStatus(bad.id)).toMatchObject({
        status: 'failed',
        error: new TypeError('not a function'),
      });
      expect(scheduler.getJobStatus(good.id)?.status).toBe('completed');
      expect(scheduler.getMetrics()).toMatchObject({
        busyWorkers: 0,
        failedJobs: 1,
        completedJobs: 1,
      });
    });
  });

  it('times out an Observable that never completes, and frees its worker', () => {
    inVirtualTime(
      { maxWorkers: 1, jobTimeout: 50, enableRetry: false },
      ({ scheduler, log, work, flush }) => {
        void scheduler.start();
        const stuck = scheduler.submitJob({ name: 'never', handler: () => NEVER });
        scheduler.submitJob({ name: 'next', handler: work(1, 1) });
        flush();
        expect(scheduler.getJobStatus(stuck.id)?.error).toBeInstanceOf(JobTimeoutError);
        expect(only(log, 'started')).toEqual(['0:never', '50:next']);
      },
    );
  });

  it('fails with the error of an Observable that errors after emitting, not with its value', () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'half-done',
        handler: () =>
          testScheduler.createColdObservable('-a-#', { a: 'partial' }, new Error('broke')),
      });
      flush();
      const snapshot = scheduler.getJobStatus(job.id);
      expect(snapshot).toMatchObject({ status: 'failed', error: new Error('broke') });
      expect(snapshot).not.toHaveProperty('result');
    });
  });

  it('ignores what an Observable emits after its timeout', () => {
    inVirtualTime(
      { jobTimeout: 10, enableRetry: false },
      ({ scheduler, events, testScheduler, flush }) => {
        void scheduler.start();
        let emittedLate = false;
        const job = scheduler.submitJob({
          name: 'late',
          // Does not stop on unsubscribe: it keeps its own timer and emits anyway.
          handler: () =>
            new Observable<string>((subscriber) => {
              testScheduler.schedule(() => {
                emittedLate = true;
                subscriber.next('too late');
                subscriber.complete();
              }, 20);
            }),
        });
        flush();
        expect(emittedLate).toBe(true);
        expect(events.filter((event) => event.jobId === job.id).map((event) => event.type)).toEqual(
          ['submitted', 'queued', 'started', 'failed'],
        );
        expect(scheduler.getJobStatus(job.id)).not.toHaveProperty('result');
      },
    );
  });

  it('keeps a huge result as it is', () => {
    inVirtualTime({}, ({ scheduler, flush }) => {
      void scheduler.start();
      const huge = Array.from({ length: 1_000_000 }, (_, index) => index);
      const job = scheduler.submitJob({ name: 'huge', handler: () => huge });
      flush();
      expect(scheduler.getJobStatus(job.id)?.result).toBe(huge);
    });
  });

  it('lets a handler submit and cancel other jobs from inside (re-entrancy)', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const victim = scheduler.submitJob({
        name: 'victim',
        schedule: { type: 'once', startTime: 100 },
        handler: work(1, 1),
      });
      let childId = '';
      const parent = scheduler.submitJob({
        name: 'parent',
        handler: () => {
          childId = scheduler.submitJob({ name: 'spawned', handler: work(5, 'child') }).id;
          expect(scheduler.cancelJob(victim.id)).toBe(true);
          return 'parent';
        },
      });
      flush();
      expect(scheduler.getJobStatus(parent.id)?.status).toBe('completed');
      expect(scheduler.getJobStatus(childId)).toMatchObject({
        status: 'completed',
        result: 'child',
      });
      expect(scheduler.getJobStatus(victim.id)?.status).toBe('cancelled');
      expect(only(log, 'started')).toEqual(['0:parent', '0:spawned']);
    });
  });

  it('lets a handler cancel its own job', () => {
    inVirtualTime({}, ({ scheduler, events, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'self-cancelling',
        handler: (_payload, { job: self }) => {
          scheduler.cancelJob(self.id);
          return timer(10);
        },
      });
      flush();
      expect(scheduler.getJobStatus(job.id)?.status).toBe('cancelled');
      expect(events.filter((event) => event.jobId === job.id && event.final)).toHaveLength(1);
      expect(scheduler.getMetrics()).toMatchObject({ busyWorkers: 0, runningJobs: 0 });
    });
  });

  describe('a subscriber to events$ that throws', () => {
    const reported: unknown[] = [];
    let previous: typeof rxjsConfig.onUnhandledError;
    beforeEach(() => {
      reported.length = 0;
      previous = rxjsConfig.onUnhandledError;
      rxjsConfig.onUnhandledError = (error) => reported.push(error);
    });
    afterEach(() => {
      rxjsConfig.onUnhandledError = previous;
    });

    it('is reported through RxJS, while the scheduler and other subscribers go on', async () => {
      let lateSubscriberSaw = 0;
      let jobId = '';
      inVirtualTime({}, ({ scheduler, work, flush }) => {
        scheduler.events$.subscribe(() => {
          throw new Error('subscriber bug');
        });
        scheduler.events$.subscribe(() => {
          lateSubscriberSaw += 1;
        });
        void scheduler.start();
        jobId = scheduler.submitJob({ name: 'fine', handler: work(5, 'ok') }).id;
        flush();
        expect(scheduler.getJobStatus(jobId)).toMatchObject({ status: 'completed', result: 'ok' });
        expect(scheduler.getMetrics().completedJobs).toBe(1);
      });
      expect(lateSubscriberSaw).toBe(4);
      // RxJS reports a consumer's error asynchronously, through config.onUnhandledError.
      await sleep(1);
      // One report per event it threw on: submitted, queued, started, completed.
      expect(reported).toEqual(Array.from({ length: 4 }, () => new Error('subscriber bug')));
    });
  });
});

describe('misbehaving promise handlers, in real time', () => {
  const unhandled = recordUnhandledRejections();

  it('records a rejection with undefined or a string as it is', async () => {
    const scheduler = new JobScheduler({ enableRetry: false });
    await scheduler.start();
    const withUndefined = scheduler.submitJob({
      name: 'undefined',
      handler: () => Promise.reject(undefined),
    });
    const withString = scheduler.submitJob({
      name: 'string',
      handler: () => Promise.reject('just a string'),
    });
    await expect(withUndefined.result).rejects.toBeUndefined();
    await expect(withString.result).rejects.toBe('just a string');
    expect(scheduler.getJobStatus(withUndefined.id)).toMatchObject({
      status: 'failed',
      error: undefined,
    });
    expect(scheduler.getJobStatus(withString.id)).toMatchObject({
      status: 'failed',
      error: 'just a string',
    });
    await scheduler.stop();
    expect(unhandled).toEqual([]);
  });

  it('times out a promise that never settles', async () => {
    const scheduler = new JobScheduler({ jobTimeout: 20, enableRetry: false });
    await scheduler.start();
    const job = scheduler.submitJob({ name: 'forever', handler: () => new Promise(() => {}) });
    await expect(job.result).rejects.toBeInstanceOf(JobTimeoutError);
    await scheduler.stop();
  });

  it('stays failed when a handler that ignores its signal resolves after its timeout', async () => {
    const scheduler = new JobScheduler({ jobTimeout: 10, enableRetry: false });
    await scheduler.start();
    const events: string[] = [];
    scheduler.events$.subscribe((event) => events.push(event.type));
    const job = scheduler.submitJob({ name: 'deaf', handler: () => sleep(40, 'finished anyway') });
    await expect(job.result).rejects.toBeInstanceOf(JobTimeoutError);
    await sleep(60);
    expect(scheduler.getJobStatus(job.id)).toMatchObject({ status: 'failed' });
    expect(scheduler.getJobStatus(job.id)).not.toHaveProperty('result');
    expect(events.filter((type) => type === 'failed' || type === 'completed')).toEqual(['failed']);
    await scheduler.stop();
  });

  it('survives a handler that rejects after it was cancelled', async () => {
    const scheduler = new JobScheduler();
    await scheduler.start();
    const job = scheduler.submitJob({
      name: 'rejects-late',
      handler: () => sleep(10).then(() => Promise.reject(new Error('late failure'))),
    });
    job.cancel();
    await sleep(30);
    expect(scheduler.getJobStatus(job.id)?.status).toBe('cancelled');
    expect(unhandled).toEqual([]);
    await scheduler.stop();
  });

  it('treats a thenable that throws in then() as a failed attempt', async () => {
    const scheduler = new JobScheduler({ enableRetry: false });
    await scheduler.start();
    const job = scheduler.submitJob({
      name: 'bad-thenable',
      handler: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a deliberately broken thenable
        then: () => {
          throw new Error('then broke');
        },
      }),
    });
    await expect(job.result).rejects.toThrow('then broke');
    await scheduler.stop();
  });
});

describe('a handler that fails with an Observable error object', () => {
  it('keeps the error value exactly', () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, flush }) => {
      void scheduler.start();
      const reason = { code: 42 };
      const job = scheduler.submitJob({
        name: 'object-error',
        handler: () => throwError(() => reason),
      });
      flush();
      expect(scheduler.getJobStatus(job.id)?.error).toBe(reason);
    });
  });
});
