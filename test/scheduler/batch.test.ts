import { throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  BatchError,
  DuplicateJobIdError,
  JobCancelledError,
  type StopReport,
} from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler batches', () => {
  it('stores each child with parentId and resolves to the results in input order', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({ maxWorkers: 4 }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const batch = scheduler.submitJob({
        name: 'thumbnails',
        jobs: [30, 10, 20].map((ms) => ({ name: `resize-${ms}`, handler: work(ms, ms * 2) })),
      });
      result = batch.result;
      flush();
      const children = scheduler.listJobs().filter((job) => job.parentId === batch.id);
      expect(children.map((child) => [child.name, child.status])).toEqual([
        ['resize-30', 'completed'],
        ['resize-10', 'completed'],
        ['resize-20', 'completed'],
      ]);
      expect(scheduler.getJobStatus(batch.id)).toMatchObject({
        type: 'batch',
        status: 'completed',
        result: [60, 20, 40],
      });
    });
    await expect(result).resolves.toEqual([60, 20, 40]);
  });

  it("refuses a child's id to a job submitted while the batch is announced", () => {
    inVirtualTime({}, ({ scheduler }) => {
      let refusal: unknown;
      scheduler.events$.subscribe((event) => {
        if (event.type !== 'submitted' || event.jobId !== 'batch') return;
        try {
          scheduler.submitJob({ id: 'child', name: 'intruder', handler: () => 'intruder' });
        } catch (error) {
          refusal = error;
        }
      });
      scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        jobs: [{ id: 'child', name: 'child', handler: () => 'child' }],
      });
      expect(refusal).toBeInstanceOf(DuplicateJobIdError);
      expect(scheduler.listJobs().map((job) => [job.id, job.name])).toEqual([
        ['batch', 'batch'],
        ['child', 'child'],
      ]);
    });
  });

  it('cancels a batch, children and all, that a subscriber cancels as it is announced', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({}, ({ scheduler, events, work, flush }) => {
      void scheduler.start();
      scheduler.events$.subscribe((event) => {
        if (event.type === 'submitted' && event.jobId === 'batch') scheduler.cancelJob('batch');
      });
      const batch = scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        jobs: [
          { id: 'a', name: 'a', handler: work(10, 'a') },
          { id: 'b', name: 'b', handler: work(10, 'b') },
        ],
      });
      result = batch.result;
      flush();
      const finals = events.filter((event) => event.final).map((e) => [e.jobId, e.type]);
      // One final event each. The cancel takes effect once the submission is whole: the
      // children had just started, and their signals were aborted.
      expect(finals).toEqual([
        ['a', 'cancelled'],
        ['b', 'cancelled'],
        ['batch', 'cancelled'],
      ]);
      expect(scheduler.getMetrics()).toMatchObject({ completedJobs: 0, cancelledJobs: 3 });
    });
    await expect(result).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('winds down a whole batch when a subscriber stops the scheduler as it is announced', async () => {
    let report: Promise<StopReport> | undefined;
    let completed = false;
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      void scheduler.start();
      scheduler.events$.subscribe({
        next: (event) => {
          if (event.type === 'submitted' && event.jobId === 'batch') report = scheduler.stop();
        },
        complete: () => {
          completed = true;
        },
      });
      scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        concurrency: 1,
        jobs: [
          { id: 'a', name: 'a', handler: work(10, 'a') },
          { id: 'b', name: 'b', handler: work(10, 'b') },
        ],
      });
      flush();
      // The running child may finish; the one still waiting is cancelled, and so the batch ends.
      expect(scheduler.listJobs().map((job) => [job.id, job.status])).toEqual([
        ['batch', 'failed'],
        ['a', 'completed'],
        ['b', 'cancelled'],
      ]);
      expect(completed).toBe(true);
    });
    const { cancelled } = await (report as Promise<StopReport>);
    expect(cancelled.map((job) => job.id)).toEqual(['b']);
  });

  it('runs at most `concurrency` children at once', () => {
    inVirtualTime({ maxWorkers: 4 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'batch',
        concurrency: 2,
        jobs: ['a', 'b', 'c', 'd'].map((name) => ({ name, handler: work(10, name) })),
      });
      flush();
      expect(only(log, 'started')).toEqual(['0:a', '0:b', '10:c', '10:d']);
    });
  });

  it('keeps to `concurrency` when children settle as they start', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({ maxWorkers: 4 }, ({ scheduler, log, flush }) => {
      void scheduler.start();
      const batch = scheduler.submitJob({
        name: 'batch',
        concurrency: 1,
        jobs: ['a', 'b', 'c'].map((name) => ({ name, handler: () => name.toUpperCase() })),
      });
      result = batch.result;
      flush();
      const children = log.filter((line) => /:(started|completed):[abc]$/.test(line));
      expect(children).toEqual([
        '0:started:a',
        '0:completed:a',
        '0:started:b',
        '0:completed:b',
        '0:started:c',
        '0:completed:c',
      ]);
    });
    await expect(result).resolves.toEqual(['A', 'B', 'C']);
  });

  it('fails with BatchError listing every outcome, after all children settled', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({ enableRetry: false }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const batch = scheduler.submitJob({
        name: 'mixed',
        jobs: [
          { name: 'fails-fast', handler: () => throwError(() => new Error('bad row')) },
          { name: 'slow-ok', handler: work(50, 'ok') },
        ],
      });
      result = batch.result;
      flush();
      expect(only(log, 'failed')).toEqual(['0:fails-fast', '50:mixed']);
    });
    const error = await result?.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BatchError);
    expect((error as BatchError).outcomes).toEqual([
      { id: expect.any(String), status: 'failed', error: new Error('bad row') },
      { id: expect.any(String), status: 'completed', result: 'ok' },
    ]);
  });

  it('cancels its children when cancelled', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, testScheduler, flush }) => {
      void scheduler.start();
      let abortReason: unknown;
      const batch = scheduler.submitJob({
        name: 'batch',
        concurrency: 1,
        jobs: [
          {
            name: 'running',
            handler: (_payload, { signal }) => {
              signal.addEventListener('abort', () => {
                abortReason = signal.reason;
              });
              return work(100, 1)();
            },
          },
          { name: 'never-started', handler: work(10, 2) },
        ],
      });
      testScheduler.schedule(() => expect(batch.cancel()).toBe(true), 50);
      flush();
      expect(abortReason).toBeInstanceOf(JobCancelledError);
      expect(scheduler.listJobs().map((job) => [job.name, job.status])).toEqual([
        ['batch', 'cancelled'],
        ['running', 'cancelled'],
        ['never-started', 'cancelled'],
      ]);
      expect(scheduler.getMetrics()).toMatchObject({
        busyWorkers: 0,
        queuedJobs: 0,
        runningJobs: 0,
        pendingJobs: 0,
      });
    });
  });
});
