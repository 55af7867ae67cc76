import { map, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  JobCancelledError,
  JobInterruptedError,
  type JobScheduler,
  type JobSnapshot,
  Priority,
} from '../../src/index.js';
import { lifetime, tempDbPath } from './durableHarness.js';

const EPOCH = Date.UTC(2026, 10, 28, 12, 0, 0);
const of = (log: readonly string[], type: string) =>
  log.filter((line) => line.split(':')[1] === type).map((line) => line.replace(`:${type}:`, ':'));

/** A job that waits in the store, pending, for a start time after the next process starts. */
function submitLater(scheduler: JobScheduler): void {
  scheduler.submitJob({
    id: 'later',
    name: 'sleep',
    payload: 10,
    schedule: { type: 'once', startTime: EPOCH + 500 },
  });
}

describe('recovery from a sqliteStore', () => {
  it('queues again what was queued, in priority order, and retries what was running', () => {
    const path = tempDbPath();
    lifetime(path, { maxWorkers: 1 }, EPOCH, 50, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'running', name: 'sleep', payload: 100 });
      scheduler.submitJob({ id: 'low', name: 'sleep', payload: 10, priority: Priority.Low });
      scheduler.submitJob({
        id: 'critical',
        name: 'sleep',
        payload: 10,
        priority: Priority.Critical,
      });
      scheduler.submitJob({ id: 'normal', name: 'sleep', payload: 10, priority: Priority.Normal });
    });
    const after = lifetime(path, { maxWorkers: 1 }, EPOCH + 1000, 10_000, ({ scheduler }) => {
      expect(scheduler.listJobs().map((job) => [job.id, job.status])).toEqual([
        ['running', 'running'],
        ['low', 'queued'],
        ['critical', 'queued'],
        ['normal', 'queued'],
      ]);
      void scheduler.start();
    });
    // The interrupted job is queued again too, and its Normal priority outranks Low.
    expect(of(after.log, 'started')).toEqual([
      '0:critical#1.1',
      '10:normal#1.1',
      '20:running#1.2',
      '120:low#1.1',
    ]);
    expect(of(after.log, 'retrying')).toEqual(['0:running#1.1']);
    expect(after.scheduler.getJobStatus('running')).toMatchObject({
      status: 'completed',
      result: 100,
      attempts: 2,
    });
  });

  it('starts recovered runs and those submitted before start() together, by priority', () => {
    const path = tempDbPath();
    lifetime(path, { maxWorkers: 1 }, EPOCH, 10, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'blocker', name: 'sleep', payload: 1000 });
      scheduler.submitJob({ id: 'normal', name: 'sleep', payload: 10 });
      scheduler.submitJob({ id: 'critical', name: 'sleep', payload: 10, priority: 3 });
    });
    const after = lifetime(path, { maxWorkers: 1 }, EPOCH + 1000, 5000, ({ scheduler }) => {
      scheduler.submitJob({ id: 'low', name: 'sleep', payload: 10, priority: Priority.Low });
      scheduler.submitJob({ id: 'high', name: 'sleep', payload: 10, priority: Priority.High });
      scheduler.cancelJob('blocker');
      void scheduler.start();
    });
    expect(of(after.log, 'started')).toEqual([
      '0:critical#1.1',
      '10:high#1.1',
      '20:normal#1.1',
      '30:low#1.1',
    ]);
  });

  it('runs recovered jobs whose priority the new aging cannot scale, rather than fail them all', () => {
    const path = tempDbPath();
    // Accepted without aging, and left queued: the scheduler was never started.
    lifetime(path, { maxWorkers: 1 }, EPOCH, 50, ({ scheduler }) => {
      scheduler.submitJob({ id: 'a', name: 'sleep', payload: 10, priority: 1e306 });
      scheduler.submitJob({ id: 'b', name: 'sleep', payload: 10, priority: 1e306 });
      scheduler.submitJob({ id: 'c', name: 'sleep', payload: 10, priority: -1e306 });
    });
    let pipelineError: unknown;
    const after = lifetime(path, { maxWorkers: 1, aging: 1000 }, EPOCH + 100, 1000, (run) => {
      run.scheduler.events$.subscribe({ error: (error) => (pipelineError = error) });
      void run.scheduler.start();
    });
    expect(pipelineError).toBeUndefined();
    expect(of(after.log, 'completed')).toEqual(['10:a#1.1', '20:b#1.1', '30:c#1.1']);
  });

  it('fails an interrupted job that has no attempt left, with JobInterruptedError', () => {
    const path = tempDbPath();
    lifetime(path, { enableRetry: false }, EPOCH, 50, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'once', name: 'sleep', payload: 100 });
    });
    const after = lifetime(
      path,
      { enableRetry: false },
      EPOCH + 60,
      1000,
      ({ scheduler }) => void scheduler.start(),
    );
    const snapshot = after.scheduler.getJobStatus('once');
    expect(snapshot?.status).toBe('failed');
    expect(snapshot?.error).toMatchObject({ name: 'JobInterruptedError', attempt: 1 });
    expect(snapshot?.error).toBeInstanceOf(JobInterruptedError);
  });

  it('re-arms a backoff for what is left of it, and a scheduled job for its start time', () => {
    const path = tempDbPath();
    lifetime(path, { retryDelay: 1000 }, EPOCH, 300, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'flaky', name: 'flaky', payload: 5 });
      scheduler.submitJob({
        id: 'later',
        name: 'sleep',
        payload: 5,
        schedule: { type: 'once', startTime: EPOCH + 5000 },
      });
    });
    // Down for 200 ms: the retry is due 500 ms after the restart, the scheduled job 4500 ms after.
    const after = lifetime(
      path,
      { retryDelay: 1000 },
      EPOCH + 500,
      10_000,
      ({ scheduler }) => void scheduler.start(),
    );
    expect(of(after.log, 'started')).toEqual(['500:flaky#1.2', '4500:later#1.1']);
  });

  /** A minutely cron job whose process dies at 12:01:30 and restarts at 12:05:10. */
  function restartedMinutely(missedRuns: 'skip' | 'once' | undefined, watch: number) {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 90_000, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'minutely',
        name: 'sleep',
        payload: 1,
        ...(missedRuns === undefined ? {} : { missedRuns }),
        schedule: { type: 'cron', cronExpr: '* * * * *' },
      });
    });
    return lifetime(path, {}, EPOCH + 310_000, watch, ({ scheduler }) => void scheduler.start());
  }

  /**
   * A store whose first process submits one recurring job (`payload` ms of sleep, `every` ms,
   * `maxRuns` runs) and dies at `until`.
   */
  function recurringUntil(
    until: number,
    id: string,
    { payload = 1, every = 100, maxRuns = 2, maxAttempts = undefined as number | undefined } = {},
  ): string {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, until, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id,
        name: 'sleep',
        payload,
        ...(maxAttempts === undefined ? {} : { retryPolicy: { maxAttempts } }),
        schedule: { type: 'interval', every, maxRuns },
      });
    });
    return path;
  }

  it('continues a cron job from now, skipping missed fires by default', () => {
    // The fires at 12:02 to 12:05 were missed: run 2 stands for them all, skipped.
    const after = restartedMinutely(undefined, 120_000);
    expect(of(after.log, 'skipped')).toEqual(['0:minutely#2.0']);
    expect(after.events.find((event) => event.type === 'skipped')).toMatchObject({
      reason: 'missed',
      nextRunAt: EPOCH + 360_000,
    });
    expect(of(after.log, 'started')).toEqual(['50000:minutely#3.1', '110000:minutely#4.1']);
    after.scheduler.cancelJob('minutely');
  });

  it('ends a recurring job whose last fire was missed as its last run ended', () => {
    const path = recurringUntil(150, 'two');
    const after = lifetime(path, {}, EPOCH + 420, 1000, ({ scheduler }) => {
      void scheduler.start();
    });
    // Run 2 was due at 200, while no process ran.
    expect(of(after.log, 'skipped')).toEqual(['0:two#2.0']);
    expect(of(after.log, 'started')).toEqual([]);
    expect(after.scheduler.getJobStatus('two')).toMatchObject({
      status: 'completed',
      runs: 2,
      result: 1,
    });
  });

  it('cancels a recurring job every fire of which came while no process ran', () => {
    const path = recurringUntil(50, 'two', { every: 1000 });
    // Down over fire 1 (at 1000), up from 1500 to 1600, down over fire 2 (at 2000).
    const between = lifetime(path, {}, EPOCH + 1500, 100, (run) => void run.scheduler.start());
    expect(of(between.log, 'skipped')).toEqual(['0:two#1.0']);
    const after = lifetime(path, {}, EPOCH + 5000, 1000, (run) => void run.scheduler.start());
    expect(after.log).toEqual(['0:skipped:two#2.0', '0:cancelled:two#2.0']);
    const status = after.scheduler.getJobStatus('two');
    expect(status).toMatchObject({ status: 'cancelled', runs: 2, attempts: 0 });
    expect(status?.error).toBeInstanceOf(JobCancelledError);
    expect(status?.error).toMatchObject({
      message: expect.stringMatching(/its last fire came while no scheduler ran, and no run/),
    });
  });

  it("does not take a retry's time, beside a run still running, for a missed fire", () => {
    const path = tempDbPath();
    lifetime(path, { maxWorkers: 2 }, EPOCH, 2020, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'both',
        name: 'flaky',
        payload: 5000,
        overlap: 'allow',
        retryPolicy: { maxAttempts: 3, initialDelay: 50 },
        schedule: { type: 'interval', every: 1000, maxRuns: 5 },
      });
    });
    // Run 1's second attempt runs from 1050; run 2 failed at 2000, to retry at 2050. The next
    // fire is at 3000: nothing was missed by 2100.
    const after = lifetime(path, { maxWorkers: 2 }, EPOCH + 2100, 500, (run) => {
      void run.scheduler.start();
    });
    expect(of(after.log, 'skipped')).toEqual([]);
    expect(after.scheduler.getJobStatus('both')?.nextRunAt).toBe(EPOCH + 3000);
  });

  it('skips the fires a job retrying at the crash missed, and shows the next one', () => {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 1100, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'retrying',
        name: 'flaky',
        payload: 10,
        retryPolicy: { maxAttempts: 3, initialDelay: 5000 },
        schedule: { type: 'interval', every: 1000, maxRuns: 50 },
      });
    });
    // Run 1 failed at 1000, to retry at 6000; the fires at 2000 and 3000 came while down.
    let resumed: JobSnapshot | undefined;
    const after = lifetime(path, {}, EPOCH + 3500, 0, ({ scheduler }) => {
      void scheduler.start();
      resumed = scheduler.getJobStatus('retrying');
    });
    expect(of(after.log, 'skipped')).toEqual(['0:retrying#2.0']);
    expect(resumed).toMatchObject({ status: 'retrying', nextRunAt: EPOCH + 4000 });
  });

  it('shows the next fire of a resumed job, not the one it missed, from start() on', () => {
    const path = recurringUntil(150, 'five', { maxRuns: 5 });
    let resumed: number | undefined;
    lifetime(path, {}, EPOCH + 420, 0, ({ scheduler }) => {
      void scheduler.start();
      resumed = scheduler.getJobStatus('five')?.nextRunAt;
    });
    // It missed 200 to 400; its grid goes on at 500.
    expect(resumed).toBe(EPOCH + 500);
  });

  it("runs one fire for all those missed with missedRuns: 'once'", () => {
    const after = restartedMinutely('once', 60_000);
    expect(of(after.log, 'started')).toEqual(['0:minutely#2.1', '50000:minutely#3.1']);
  });

  it('keeps a recurring job on its grid and within maxRuns', () => {
    const path = recurringUntil(250, 'five', { maxRuns: 5 });
    const after = lifetime(
      path,
      {},
      EPOCH + 260,
      10_000,
      ({ scheduler }) => void scheduler.start(),
    );
    // Grid points at 100, 200, … after EPOCH; runs 1 and 2 happened before the crash.
    expect(of(after.log, 'started')).toEqual(['40:five#3.1', '140:five#4.1', '240:five#5.1']);
    expect(after.scheduler.getJobStatus('five')).toMatchObject({ status: 'completed', runs: 5 });
  });

  it('fails a recurring job whose last run the crash cut off, with no attempt left', () => {
    const path = recurringUntil(250, 'two', { payload: 100, maxAttempts: 1 });
    // Run 2 started at 200 and was running at the crash.
    const after = lifetime(path, {}, EPOCH + 1000, 5000, ({ scheduler }) => {
      void scheduler.start();
    });
    expect(after.log).toEqual(['0:failed:two#2.1']);
    const status = after.scheduler.getJobStatus('two');
    expect(status).toMatchObject({ status: 'failed', runs: 2 });
    expect(status?.error).toBeInstanceOf(JobInterruptedError);
  });

  it('ends a recurring job whose last fire meets a full queue as its stored last run ended', () => {
    const path = recurringUntil(150, 'two', { payload: 10 });
    // Run 1 completed at 110 with 10; run 2 is due at 200, when the queue is full.
    const after = lifetime(path, { maxWorkers: 1, queueSize: 1 }, EPOCH + 160, 5000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'blocker', name: 'sleep', payload: 1000 });
      run.scheduler.submitJob({ id: 'waiter', name: 'sleep', payload: 1 });
    });
    expect(of(after.log, 'skipped')).toEqual(['40:two#2.0']);
    expect(after.scheduler.getJobStatus('two')).toMatchObject({ status: 'completed', result: 10 });
  });

  it('finishes a batch with the children not done yet, keeping the results of those done', async () => {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 25, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        concurrency: 1,
        jobs: [10, 20, 30, 40].map((ms, index) => ({
          id: `child${index}`,
          name: 'sleep',
          payload: ms,
        })),
      });
    });
    const after = lifetime(
      path,
      {},
      EPOCH + 100,
      10_000,
      ({ scheduler }) => void scheduler.start(),
    );
    expect(of(after.log, 'started')).toEqual(['0:child1#1.2', '20:child2#1.1', '50:child3#1.1']);
    expect(after.scheduler.getJobStatus('batch')).toMatchObject({
      status: 'completed',
      result: [10, 20, 30, 40],
    });
  });

  it('cancels a stored job before start() resumes it, a batch with its children, for good', () => {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 5, ({ scheduler }) => {
      submitLater(scheduler);
      scheduler.submitJob({ id: 'kept', name: 'sleep', payload: 10 });
      scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        jobs: [10, 20].map((ms, index) => ({ id: `child${index}`, name: 'sleep', payload: ms })),
      });
    });
    const second = lifetime(path, {}, EPOCH + 100, 1000, ({ scheduler }) => {
      expect(scheduler.getJobStatus('later')?.status).toBe('pending');
      expect(scheduler.cancelJob('later')).toBe(true);
      expect(scheduler.cancelJob('batch')).toBe(true);
      expect(scheduler.cancelJob('later')).toBe(false);
      expect(scheduler.getJobStatus('later')).toMatchObject({
        status: 'cancelled',
        error: expect.any(JobCancelledError),
      });
      expect(scheduler.getMetrics()).toMatchObject({
        cancelledJobs: 4,
        queuedJobs: 1,
        pendingJobs: 0,
      });
      void scheduler.start();
    });
    expect(of(second.log, 'cancelled')).toEqual([
      '0:later#0.0',
      '0:child0#1.0',
      '0:child1#1.0',
      '0:batch#0.0',
    ]);
    expect(of(second.log, 'started')).toEqual(['0:kept#1.1']);
    const third = lifetime(path, {}, EPOCH + 2000, 1000, ({ scheduler }) => {
      void scheduler.start();
    });
    expect(third.log).toEqual([]);
    expect(third.scheduler.listJobs().map((job) => [job.id, job.status])).toEqual([
      ['later', 'cancelled'],
      ['kept', 'completed'],
      ['batch', 'cancelled'],
      ['child0', 'cancelled'],
      ['child1', 'cancelled'],
    ]);
  });

  it('leaves a stored job to the next process once stop() has been called', () => {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 5, ({ scheduler }) => {
      submitLater(scheduler);
    });
    lifetime(path, {}, EPOCH + 100, 1000, ({ scheduler }) => {
      expect(scheduler.getJobStatus('later')?.status).toBe('pending');
      void scheduler.stop();
      expect(scheduler.cancelJob('later')).toBe(false);
    });
    const third = lifetime(path, {}, EPOCH + 2000, 1000, ({ scheduler }) => void scheduler.start());
    expect(of(third.log, 'completed')).toEqual(['10:later#1.1']);
  });

  it("keeps a running batch's finished children past retention, for the batch after a restart", () => {
    const path = tempDbPath();
    lifetime(path, { retention: 0 }, EPOCH, 25, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        jobs: [
          { id: 'quick', name: 'sleep', payload: 10 },
          { id: 'slow', name: 'sleep', payload: 1000 },
        ],
      });
    });
    const after = lifetime(path, { retention: 0 }, EPOCH + 100, 10_000, ({ scheduler }) => {
      // Held while its batch runs, though retention 0 would have let it go at once.
      expect(scheduler.getJobStatus('quick')).toMatchObject({ status: 'completed', result: 10 });
      void scheduler.start();
    });
    expect(
      after.log.filter((line) => line.includes(':completed:batch') || line.includes(':failed:')),
    ).toEqual(['1000:completed:batch#1.0']);
    // Once the batch has ended, retention 0 lets go of it and of its children.
    expect(after.scheduler.listJobs()).toEqual([]);
  });

  it('retries a job whose error JSON cannot hold, keeping its status and error', () => {
    const path = tempDbPath();
    const defineFetch = (scheduler: JobScheduler) =>
      scheduler.define(
        'fetch',
        (_payload: undefined, { attempt }) => {
          if (attempt > 1) return 'fetched';
          // An HTTP client's error holds its request, and the request holds itself.
          const request: Record<string, unknown> = { url: 'https://example.com' };
          request.self = request;
          throw Object.assign(new Error('request failed'), { request });
        },
        { retryPolicy: { maxAttempts: 2, initialDelay: 10_000 } },
      );
    lifetime(path, {}, EPOCH, 100, ({ scheduler }) => {
      defineFetch(scheduler);
      void scheduler.start();
      scheduler.submitJob({ id: 'fetch', name: 'fetch' });
    });
    const after = lifetime(path, {}, EPOCH + 1000, 20_000, ({ scheduler }) => {
      defineFetch(scheduler);
      expect(scheduler.getJobStatus('fetch')).toMatchObject({
        status: 'retrying',
        error: { name: 'Error', message: 'request failed' },
      });
      void scheduler.start();
    });
    expect(of(after.log, 'started')).toEqual(['9000:fetch#1.2']);
    expect(after.scheduler.getJobStatus('fetch')).toMatchObject({
      status: 'completed',
      result: 'fetched',
    });
  });

  it('fails a recovered job whose name has no handler defined', () => {
    const path = tempDbPath();
    lifetime(path, { maxWorkers: 1 }, EPOCH, 5, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'busy', name: 'sleep', payload: 100 });
      scheduler.submitJob({ id: 'orphan', name: 'sleep', payload: 1 });
    });
    // A process that runs other code: 'sleep' is not among what it defines.
    const after = lifetime(
      path,
      { maxWorkers: 1 },
      EPOCH + 10,
      1000,
      ({ scheduler }) => void scheduler.start(),
      {
        defineHandlers: false,
      },
    );
    for (const id of ['busy', 'orphan']) {
      const snapshot = after.scheduler.getJobStatus(id);
      expect(snapshot?.status).toBe('failed');
      expect((snapshot?.error as Error | undefined)?.message).toMatch(
        /No handler is defined for job name 'sleep'/,
      );
    }
  });

  it('keeps ids, finished jobs and their results across restarts', () => {
    const path = tempDbPath();
    lifetime(path, {}, EPOCH, 1000, ({ scheduler }) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'job_123', name: 'sleep', payload: 7 });
      scheduler.submitJob({
        id: 'bad',
        name: 'flaky',
        payload: 1,
        retryPolicy: { maxAttempts: 1 },
      });
    });
    const after = lifetime(path, {}, EPOCH + 2000, 10, () => {});
    expect(after.scheduler.getJobStatus('job_123')).toMatchObject({
      status: 'completed',
      result: 7,
      attempts: 1,
    });
    const failed = after.scheduler.listJobs('failed');
    expect(failed.map((job) => job.id)).toEqual(['bad']);
    expect(failed[0]?.error).toMatchObject({ name: 'Error', message: 'first attempt fails' });
  });

  it('queues the run that was queued, not a retry waiting beside it (overlap: allow)', () => {
    const path = tempDbPath();
    const config = { maxWorkers: 1, retryDelay: 5000 };
    // Run 1 fails at 1000 and waits until 6000; run 2 is queued at 2000 behind a blocker.
    lifetime(
      path,
      config,
      EPOCH,
      2500,
      ({ scheduler, testScheduler }) => {
        scheduler.define('odd', (ms: number, { run, attempt }) =>
          run === 1 && attempt === 1
            ? throwError(() => new Error('run 1 fails once'))
            : timer(ms, testScheduler).pipe(map(() => run)),
        );
        scheduler.define('sleep', (ms: number) => timer(ms, testScheduler));
        void scheduler.start();
        scheduler.submitJob({
          id: 'r',
          name: 'odd',
          payload: 10,
          overlap: 'allow',
          retryPolicy: { maxAttempts: 2 },
          schedule: { type: 'interval', every: 1000, startTime: EPOCH + 1000 },
        });
        testScheduler.schedule(() => {
          scheduler.submitJob({ id: 'blocker', name: 'sleep', payload: 100_000 });
        }, 1500);
      },
      { defineHandlers: false },
    );
    const after = lifetime(
      path,
      { ...config, maxWorkers: 4 },
      EPOCH + 3000,
      50,
      ({ scheduler, testScheduler }) => {
        scheduler.define('odd', (ms: number, { run }) =>
          timer(ms, testScheduler).pipe(map(() => run)),
        );
        scheduler.define('sleep', (ms: number) => timer(ms, testScheduler));
        void scheduler.start();
      },
      { defineHandlers: false },
    );
    // The row said queued: run 2 is queued again. Run 1's attempt, already failed, is not rerun.
    expect(of(after.log, 'started').filter((line) => line.includes(':r#'))).toEqual(['0:r#2.1']);
  });
});
