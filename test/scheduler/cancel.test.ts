import { describe, expect, it } from 'vitest';
import { JobCancelledError } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler.cancelJob', () => {
  it('cancels a queued job so it never runs', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'busy', handler: work(10, 1) });
      const queued = scheduler.submitJob({ name: 'queued', handler: work(10, 2) });
      expect(scheduler.cancelJob(queued.id)).toBe(true);
      expect(scheduler.getMetrics().queuedJobs).toBe(0);
      flush();
      expect(only(log, 'started')).toEqual(['0:busy']);
      expect(scheduler.getJobStatus(queued.id)?.status).toBe('cancelled');
    });
  });

  it('cancels a pending scheduled job before it fires', () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const later = scheduler.submitJob({
        name: 'later',
        schedule: { type: 'once', startTime: 1000 },
        handler: work(1, 1),
      });
      expect(later.cancel()).toBe(true);
      flush();
      expect(only(log, 'started')).toEqual([]);
      expect(scheduler.getJobStatus(later.id)).toMatchObject({
        status: 'cancelled',
        finishedAt: 0,
      });
    });
  });

  it('aborts a running job with JobCancelledError and frees its worker', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      let reason: unknown;
      const slow = testScheduler.createColdObservable('1s a|');
      const running = scheduler.submitJob({
        name: 'running',
        handler: (_payload, { signal }) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
          });
          return slow;
        },
      });
      scheduler.submitJob({ name: 'next', handler: work(5, 1) });
      testScheduler.schedule(() => scheduler.cancelJob(running.id), 100);
      flush();
      expect(reason).toBeInstanceOf(JobCancelledError);
      expect(slow.subscriptions.map((s) => [s.subscribedFrame, s.unsubscribedFrame])).toEqual([
        [0, 100],
      ]);
      expect(only(log, 'started')).toEqual(['0:running', '100:next']);
      expect(only(log, 'cancelled')).toEqual(['100:running']);
    });
  });

  it('stops a cron job from firing again', () => {
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'cron',
        schedule: { type: 'cron', cronExpr: '* * * * * *' },
        handler: work(1, 1),
      });
      testScheduler.schedule(() => job.cancel(), 2500);
      flush();
      expect(only(log, 'started')).toEqual(['1000:cron', '2000:cron']);
      expect(testScheduler.now()).toBe(2500);
    });
  });

  it('cancels a job waiting out its backoff', () => {
    inVirtualTime({ retryDelay: 1000 }, ({ scheduler, log, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'flaky',
        handler: () => {
          throw new Error('x');
        },
      });
      testScheduler.schedule(() => job.cancel(), 500);
      flush();
      expect(only(log, 'started')).toEqual(['0:flaky']);
      expect(scheduler.getJobStatus(job.id)?.status).toBe('cancelled');
      expect(testScheduler.now()).toBe(500);
    });
  });

  it('returns false for unknown or finished jobs, and emits one terminal event per job', () => {
    inVirtualTime({}, ({ scheduler, events, work, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({ name: 'quick', handler: work(1, 1) });
      flush();
      expect(scheduler.cancelJob(job.id)).toBe(false);
      expect(scheduler.cancelJob('no-such-job')).toBe(false);
      const terminal = events.filter((event) => event.jobId === job.id && event.final);
      expect(terminal.map((event) => event.type)).toEqual(['completed']);
    });
  });

  it('rejects the result promise of a cancelled job with JobCancelledError', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({}, ({ scheduler, work }) => {
      const job = scheduler.submitJob({ name: 'never', handler: work(1, 1) });
      result = job.result;
      job.cancel();
    });
    await expect(result).rejects.toBeInstanceOf(JobCancelledError);
  });
});
