import { throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../operators/index.js';
import { JobInterruptedError, JobTimeoutError } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

const failing = (message: string) => () => throwError(() => new Error(message));

describe('JobScheduler retries', () => {
  it('retries after backoffDelay(policy, n) and keeps the last error when attempts run out', () => {
    inVirtualTime({}, ({ scheduler, log, events, flush }) => {
      void scheduler.start();
      const policy = { maxAttempts: 4, initialDelay: 100, maxDelay: 250, backoffFactor: 2 };
      const job = scheduler.submitJob({
        name: 'flaky',
        retryPolicy: policy,
        handler: failing('nope'),
      });
      flush();
      expect(only(log, 'started')).toEqual([
        '0:flaky',
        '100:flaky#2',
        '300:flaky#3',
        '550:flaky#4',
      ]);
      const retries = events
        .filter((event) => event.type === 'retrying')
        .map((event) => event.retryAt);
      expect(retries).toEqual([
        0 + backoffDelay(policy, 1),
        100 + backoffDelay(policy, 2),
        300 + backoffDelay(policy, 3),
      ]);
      expect(only(log, 'failed')).toEqual(['550:flaky#4']);
      expect(scheduler.getJobStatus(job.id)).toMatchObject({
        status: 'failed',
        attempts: 4,
        error: new Error('nope'),
      });
      expect(scheduler.getMetrics()).toMatchObject({
        retriedAttempts: 3,
        failedJobs: 1,
        completedJobs: 0,
      });
    });
  });

  it('uses the config when the job has no policy, and one attempt with enableRetry: false', () => {
    inVirtualTime({ retryAttempts: 2, retryDelay: 50 }, ({ scheduler, log, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'configured', handler: failing('x') });
      flush();
      expect(only(log, 'started')).toEqual(['0:configured', '50:configured#2']);
    });
    inVirtualTime({ enableRetry: false }, ({ scheduler, log, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'once', handler: failing('x') });
      flush();
      expect(only(log, 'started')).toEqual(['0:once']);
      expect(only(log, 'failed')).toEqual(['0:once']);
    });
  });

  it('lets a job policy override the config field by field', () => {
    inVirtualTime({ retryAttempts: 5, retryDelay: 10 }, ({ scheduler, log, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'custom',
        retryPolicy: { maxAttempts: 2 },
        handler: failing('x'),
      });
      flush();
      expect(only(log, 'started')).toEqual(['0:custom', '10:custom#2']);
    });
  });

  it('does not retry an error that retryIf declines', () => {
    inVirtualTime({}, ({ scheduler, log, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'fatal',
        retryPolicy: { retryIf: (error) => (error as Error).message !== 'fatal' },
        handler: failing('fatal'),
      });
      flush();
      expect(only(log, 'started')).toEqual(['0:fatal']);
    });
  });

  it("caps a job's backoff at 30 s, or at its own initialDelay when that is longer", () => {
    inVirtualTime({}, ({ scheduler, events, flush }) => {
      void scheduler.start();
      const fail = () => throwError(() => new Error('down'));
      scheduler.submitJob({
        id: 'slow',
        name: 'slow',
        retryPolicy: { maxAttempts: 3, initialDelay: 60_000 },
        handler: fail,
      });
      scheduler.submitJob({
        id: 'fast',
        name: 'fast',
        retryPolicy: { maxAttempts: 4, initialDelay: 20_000 },
        handler: fail,
      });
      flush();
      const waits = (id: string) =>
        events
          .filter((event) => event.jobId === id && event.type === 'retrying')
          .map((event) => (event.retryAt as number) - event.at);
      expect(waits('slow')).toEqual([60_000, 60_000]);
      expect(waits('fast')).toEqual([20_000, 30_000, 30_000]);
      expect(scheduler.getJobStatus('slow')?.status).toBe('failed');
    });
  });

  it('frees the worker while a job waits out its backoff', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      let calls = 0;
      scheduler.submitJob({
        name: 'flaky',
        retryPolicy: { maxAttempts: 2, initialDelay: 1000 },
        handler: () => (++calls === 1 ? throwError(() => new Error('once')) : work(5, 'ok')()),
      });
      scheduler.submitJob({ name: 'other', handler: work(10, 'done') });
      flush();
      expect(only(log, 'started')).toEqual(['0:flaky', '0:other', '1000:flaky#2']);
      expect(only(log, 'completed')).toEqual(['10:other', '1005:flaky#2']);
    });
  });

  it('emits retrying, not failed, for an attempt that will be retried', () => {
    inVirtualTime({ retryDelay: 10 }, ({ scheduler, events, flush }) => {
      void scheduler.start();
      let calls = 0;
      const job = scheduler.submitJob({
        name: 'second-time-lucky',
        handler: () => (++calls === 1 ? throwError(() => new Error('once')) : 'ok'),
      });
      flush();
      const types = events.filter((event) => event.jobId === job.id).map((event) => event.type);
      expect(types).toEqual([
        'submitted',
        'queued',
        'started',
        'retrying',
        'queued',
        'started',
        'completed',
      ]);
    });
  });
});

describe('JobScheduler timeouts', () => {
  it('times out each attempt, unsubscribes the handler and retries per policy', () => {
    inVirtualTime(
      { jobTimeout: 100, retryDelay: 10 },
      ({ scheduler, events, testScheduler, flush }) => {
        void scheduler.start();
        const subscriptions: string[] = [];
        const slow = testScheduler.createColdObservable('1s a|');
        const job = scheduler.submitJob({
          name: 'slow',
          retryPolicy: { maxAttempts: 2 },
          handler: () => slow,
        });
        flush();
        for (const log of slow.subscriptions)
          subscriptions.push(`${log.subscribedFrame}-${log.unsubscribedFrame}`);
        expect(subscriptions).toEqual(['0-100', '110-210']);
        const outcomes = events.filter(
          (event) => event.jobId === job.id && event.timedOut === true,
        );
        expect(outcomes.map((event) => event.type)).toEqual(['retrying', 'failed']);
        expect(scheduler.getJobStatus(job.id)?.error).toBeInstanceOf(JobTimeoutError);
        expect(scheduler.getMetrics().timedOutAttempts).toBe(2);
      },
    );
  });

  it('prefers the job timeout to the config timeout', () => {
    inVirtualTime(
      { jobTimeout: 100, enableRetry: false },
      ({ scheduler, log, testScheduler, flush }) => {
        void scheduler.start();
        scheduler.submitJob({
          name: 'short',
          timeout: 20,
          handler: () => testScheduler.createColdObservable('50ms a|'),
        });
        flush();
        expect(only(log, 'failed')).toEqual(['20:short']);
      },
    );
  });

  it('aborts ctx.signal with the JobTimeoutError', () => {
    inVirtualTime({ jobTimeout: 30, enableRetry: false }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      let reason: unknown;
      scheduler.submitJob({
        name: 'watches-signal',
        handler: (_payload, { signal }) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
          });
          return testScheduler.createColdObservable('1s a|');
        },
      });
      flush();
      expect(reason).toBeInstanceOf(JobTimeoutError);
      expect((reason as JobTimeoutError).ms).toBe(30);
    });
  });

  it('judges a JobInterruptedError a handler throws by retryIf, like any other error', () => {
    inVirtualTime({}, ({ scheduler, log, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'x',
        retryPolicy: { maxAttempts: 3, retryIf: () => false },
        handler: () => {
          throw new JobInterruptedError('another job', 1);
        },
      });
      flush();
      // Only a stop's deadline, with a durable store, retries an interruption regardless.
      expect(only(log, 'started')).toEqual(['0:x']);
      expect(only(log, 'failed')).toEqual(['0:x']);
    });
  });
});
